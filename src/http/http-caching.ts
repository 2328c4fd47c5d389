/**
 * Conditional requests and cache headers.
 *
 * Content is immutable for a schema id, so the content route's ETag is the
 * content hash itself (its body is the canonical text, whose SHA-256 that
 * hash is) and shared caches may keep it. The schema resource also carries
 * state and deletion, which change while the content does not, so its ETag
 * adds the update time and is weak (presigned URLs in it vary per request).
 */
import type { SchemaRecord } from "../domain/types.ts";

/** A day: long enough to spare the registry, short enough that a permanent delete is forgotten. */
export const CONTENT_CACHE_CONTROL = "public, max-age=86400, immutable";
/** Clients may store the resource but must revalidate it; a 304 costs one lookup. */
export const RESOURCE_CACHE_CONTROL = "no-cache";

export function contentEtag(schema: SchemaRecord): string {
  return `"${schema.contentHash}"`;
}

export function resourceEtag(schema: SchemaRecord): string {
  const deleted = schema.deletedAt ? `;deleted=${schema.deletedAt.getTime()}` : "";
  return `W/"${schema.contentHash};updated=${schema.updatedAt.getTime()}${deleted}"`;
}

/** `If-None-Match` matches when it is `*` or lists the tag (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = opaque(etag);
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === wanted);
}
