/**
 * A schema as it leaves the registry: the resource every route answers with
 * (snake_case keys, ISO 8601 timestamps), and for `GET /schemas/{id}` the
 * whole response: its JSON bytes, its ETag, If-None-Match → 304 and its
 * headers. The route and the fast path in front of the app both answer
 * through `schemaResponse`, so they cannot drift apart.
 *
 * The resource carries state and deletion, which change while the content
 * does not, so its ETag adds the update time to the content hash; it is weak
 * because a presigned URL in the body varies per request. Clients may store
 * it but must revalidate (`no-cache`): a 304 costs one lookup.
 *
 * The JSON text and ETag of a resource whose content is inline are memoised
 * per record object. L1 hands out the same SchemaRecord object on every hit
 * until the entry is invalidated or expires and a new object is loaded in its
 * place; records are never changed in place (a write produces a new row, a
 * new object). So a WeakMap keyed by the record can never serve text made
 * from an older state: the text lives exactly as long as the object it was
 * made from. A record that does not come from L1 (L1 off, an L2 decode, the
 * backend) is a new object each time, and simply misses. A resource with a
 * presigned link is never memoised: the link changes per request.
 */
import { REQUEST_ID_HEADER } from "../domain/request-id.ts";
import type { SchemaRecord } from "../domain/types.ts";
import type { ContentLink } from "../registry/content-store.ts";
import type { SchemaView } from "../registry/registry-service.ts";
import type { SchemaResource } from "./contract.ts";
import { etagMatches } from "./http-caching.ts";

const RESOURCE_CACHE_CONTROL = "no-cache";

export interface ResourceOptions {
  /** Put `content` in (lists leave it out unless asked). */
  withContent: boolean;
  /** A direct URL to content the record does not hold. */
  link?: ContentLink | null;
}

/** Every schema that leaves the registry goes through here, so the resource has one shape everywhere. */
export function toSchemaResource(schema: SchemaRecord, options: ResourceOptions): SchemaResource {
  const { link } = options;
  return {
    id: schema.id,
    global_id: schema.globalId,
    subject: schema.subject,
    version: schema.version,
    content_id: schema.contentId,
    subject_version: schema.subjectVersion,
    references: schema.references,
    schema_type: schema.schemaType,
    state: schema.state,
    ...(options.withContent && schema.content !== null ? { content: schema.content } : {}),
    ...(link ? { content_url: link.url, content_url_expires_at: link.expiresAt.toISOString() } : {}),
    content_hash: schema.contentHash,
    content_size: schema.contentSize,
    content_location: schema.contentLocation,
    metadata: schema.metadata,
    created_at: schema.createdAt.toISOString(),
    updated_at: schema.updatedAt.toISOString(),
    deleted_at: schema.deletedAt ? schema.deletedAt.toISOString() : null,
  };
}

function resourceEtag(schema: SchemaRecord): string {
  const deleted = schema.deletedAt ? `;deleted=${schema.deletedAt.getTime()}` : "";
  return `W/"${schema.contentHash};updated=${schema.updatedAt.getTime()}${deleted}"`;
}

interface Representation {
  readonly body: string;
  readonly etag: string;
}

const memoised = new WeakMap<SchemaRecord, Representation>();

/** The text and ETag of a view whose resource is the record's alone (inline content, no link), made once per record. */
function memoisedRepresentation(schema: SchemaRecord): Representation {
  let made = memoised.get(schema);
  if (made === undefined) {
    made = {
      body: JSON.stringify(toSchemaResource(schema, { withContent: true })),
      etag: resourceEtag(schema),
    };
    memoised.set(schema, made);
  }
  return made;
}

/** The answer to a read of one schema: 304 when `ifNoneMatch` names its ETag, else 200 with the resource. */
export function schemaResponse(
  view: SchemaView,
  ifNoneMatch: string | null | undefined,
  requestId: string,
): Response {
  const { schema, link } = view;
  const memo =
    link === null && schema.contentLocation === "inline" && schema.content !== null
      ? memoisedRepresentation(schema)
      : null;
  const etag = memo?.etag ?? resourceEtag(schema);
  if (etagMatches(ifNoneMatch ?? undefined, etag)) {
    return new Response(null, {
      status: 304,
      headers: { [REQUEST_ID_HEADER]: requestId, ETag: etag, "Cache-Control": RESOURCE_CACHE_CONTROL },
    });
  }
  const body = memo?.body ?? JSON.stringify(toSchemaResource(schema, { withContent: true, link }));
  return new Response(body, {
    status: 200,
    headers: {
      [REQUEST_ID_HEADER]: requestId,
      ETag: etag,
      "Cache-Control": RESOURCE_CACHE_CONTROL,
      "Content-Type": "application/json",
    },
  });
}
