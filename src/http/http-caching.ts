/**
 * If-None-Match, as the schema resource (schema-representation.ts) and the
 * content route both answer it: weak comparison, so a client holding either
 * form of a tag gets its 304.
 */

/** `If-None-Match` matches when it is `*` or lists the tag (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = opaque(etag);
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === wanted);
}
