/**
 * The media types content is served with by `GET /schemas/{id}/content`
 * (and stored with in the object store, so a presigned GET answers alike):
 * JSON Schema's registered type, plain JSON for Avro (it has no registered
 * type, and every client reads application/json), and UTF-8 text for .proto
 * source, which browsers and curl display rather than download.
 */
import type { SchemaType } from "./types.ts";

export const CONTENT_MEDIA_TYPES: Readonly<Record<SchemaType, string>> = {
  json: "application/schema+json",
  avro: "application/json",
  protobuf: "text/plain; charset=utf-8",
};
