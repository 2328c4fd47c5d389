/**
 * The JSON text of a schema resource, memoised per record object.
 *
 * L1 hands out the same SchemaRecord object on every hit until the entry is
 * invalidated or expires and a new object is loaded in its place; records
 * are never changed in place (a write produces a new row, a new object). So
 * a WeakMap keyed by the record can never serve text made from an older
 * state: the text lives exactly as long as the object it was made from. A
 * record that does not come from L1 (L1 off, an L2 decode, the backend) is a
 * new object each time, and simply misses.
 *
 * Only records whose content is inline are memoised: an object-store row's
 * resource carries a presigned link, which changes per request.
 */
import type { SchemaRecord } from "../domain/types.ts";
import { resourceEtag } from "./http-caching.ts";
import { toSchemaResource } from "./resource.ts";

/** A schema resource as it goes out: its JSON text and its ETag. */
export interface SchemaRepresentation {
  readonly body: string;
  readonly etag: string;
}

const representations = new WeakMap<SchemaRecord, SchemaRepresentation>();

/** Whether `schema` is served whole by `schemaResourceBody` (its content is in the record). */
export function hasInlineContent(schema: SchemaRecord): boolean {
  return schema.contentLocation === "inline" && schema.content !== null;
}

/** The resource's JSON text (as `c.json` would write it) and ETag, made once per record object. */
export function schemaRepresentation(schema: SchemaRecord): SchemaRepresentation {
  let made = representations.get(schema);
  if (made === undefined) {
    made = {
      body: JSON.stringify(toSchemaResource(schema, { withContent: true })),
      etag: resourceEtag(schema),
    };
    representations.set(schema, made);
  }
  return made;
}
