/**
 * GET /api/v1/schemas/{id}/content: the content alone, in its canonical text
 * (so its SHA-256 is the content_hash) with its media type. Object-store
 * content answers 307 to a presigned URL; `?redirect=false` streams it.
 *
 * Content is immutable for a schema id, so the ETag is the content hash
 * itself and shared caches may keep the body.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { canonicalJson } from "../../domain/canonical.ts";
import { CONTENT_MEDIA_TYPES } from "../../domain/media-types.ts";
import type { SchemaRecord, SchemaType } from "../../domain/types.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader, schemaIdParam } from "../contract-schemas.ts";
import { etagMatches } from "../http-caching.ts";

/** A day: long enough to spare the registry, short enough that a permanent delete is forgotten. */
const CONTENT_CACHE_CONTROL = "public, max-age=86400, immutable";

const text = { schema: { type: "string" as const } };

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/schemas/{id}/content`,
  operationId: "getSchemaContent",
  tags: ["schemas"],
  summary: "The content alone, with its media type",
  description: `The canonical text of the content: JSON with sorted keys and no insignificant whitespace for json and avro, the normalised source for protobuf; its SHA-256 is the content_hash. Media types: json ${CONTENT_MEDIA_TYPES.json}, avro ${CONTENT_MEDIA_TYPES.avro}, protobuf ${CONTENT_MEDIA_TYPES.protobuf}. Cache-Control: ${CONTENT_CACHE_CONTROL}.`,
  request: {
    params: schemaIdParam,
    query: z.object({
      redirect: z.enum(["true", "false"], { message: "expected true or false" }).optional().openapi({
        description: "false: stream object-store content through the registry instead of a 307.",
      }),
    }),
  },
  responses: {
    200: {
      description: "The content.",
      headers: {
        ETag: { description: "The content_hash, quoted.", schema: { type: "string" } },
        ...requestIdHeader,
      },
      content: {
        [CONTENT_MEDIA_TYPES.json]: text,
        [CONTENT_MEDIA_TYPES.avro]: text,
        [CONTENT_MEDIA_TYPES.protobuf]: text,
      },
    },
    304: { description: "If-None-Match matched." },
    307: {
      description: "Object-store content: the Location is a presigned GET URL.",
      headers: { Location: { description: "Presigned URL.", schema: { type: "string" } } },
    },
    ...errorResponses(404),
  },
});

export function getSchemaContent(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { redirect } = c.req.valid("query");
    const content = await service.getContent(parseSchemaRef(id), { redirect: redirect !== "false" });
    const etag = contentEtag(content.schema);
    if (etagMatches(c.req.header("If-None-Match"), etag)) {
      return c.body(null, 304, { ETag: etag, "Cache-Control": CONTENT_CACHE_CONTROL });
    }
    if (content.kind === "link") {
      // The URL expires: neither the redirect nor the URL may be cached beyond it.
      return c.body(null, 307, { Location: content.link.url, "Cache-Control": "no-store" });
    }
    const headers = {
      "Content-Type": CONTENT_MEDIA_TYPES[content.schema.schemaType],
      ETag: etag,
      "Cache-Control": CONTENT_CACHE_CONTROL,
    };
    if (content.kind === "stream") {
      return c.body(content.body, 200, { ...headers, "Content-Length": String(content.schema.contentSize) });
    }
    return c.body(canonicalText(content.schema.schemaType, content.value), 200, headers);
  });
}

// The body is the canonical text, whose SHA-256 the hash is.
function contentEtag(schema: SchemaRecord): string {
  return `"${schema.contentHash}"`;
}

function canonicalText(schemaType: SchemaType, value: unknown): string {
  // Stored protobuf content is already its canonical source. JSON values are
  // read with the key order they were registered with, so they are written
  // out canonically again: this body's SHA-256 must be the content hash.
  return schemaType === "protobuf" && typeof value === "string" ? value : canonicalJson(value);
}
