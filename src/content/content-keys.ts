/**
 * Object keys of the object store's content. Content lives at `prefix + <sha256 hex> + ext`
 * (content-addressed: identical bytes share one object, and an object never
 * changes); client uploads wait at `prefix + "uploads/" + <upload_id>` until
 * they are registered or expire. The sweep relies on these shapes to tell the
 * two apart and to leave any other object under the prefix alone.
 */
import type { SchemaType } from "../domain/types.ts";

/**
 * Objects are stored with the Content-Type the registry's own content route
 * serves, so a presigned GET answers exactly like `GET /schemas/{id}/content`.
 */
export { CONTENT_MEDIA_TYPES } from "../domain/media-types.ts";

const EXTENSIONS: Record<SchemaType, string> = { json: ".json", avro: ".avsc", protobuf: ".proto" };

export const UPLOADS_FOLDER = "uploads/";

const CONTENT_NAME = /^[0-9a-f]{64}(\.json|\.avsc|\.proto)?$/;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Accepts `sha256:<hex>` (the resource's content_hash) or the bare hex digest. */
export function contentKey(prefix: string, hash: string, schemaType?: SchemaType): string {
  const hex = hash.startsWith("sha256:") ? hash.slice(7) : hash;
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError("content hash must be 64 lowercase hex digits");
  return `${prefix}${hex}${schemaType ? EXTENSIONS[schemaType] : ""}`;
}

export function uploadKey(prefix: string, uploadId: string): string {
  if (!isUploadId(uploadId)) throw new TypeError("upload id must be a UUID");
  return `${prefix}${UPLOADS_FOLDER}${uploadId}`;
}

export function isUploadId(value: string): boolean {
  return UPLOAD_ID.test(value);
}

export type KeyKind = "content" | "upload" | "foreign";

/** What an object under the prefix is; `foreign` objects were not written by the registry. */
export function classifyKey(prefix: string, key: string): KeyKind {
  if (!key.startsWith(prefix)) return "foreign";
  const rest = key.slice(prefix.length);
  if (rest.startsWith(UPLOADS_FOLDER)) {
    return isUploadId(rest.slice(UPLOADS_FOLDER.length)) ? "upload" : "foreign";
  }
  return CONTENT_NAME.test(rest) ? "content" : "foreign";
}

/** The hex digest a content key was named after. */
export function hashOfContentKey(prefix: string, key: string): string | null {
  if (classifyKey(prefix, key) !== "content") return null;
  return key.slice(prefix.length, prefix.length + 64);
}
