/**
 * Cache key namespace. Callers choose logical keys (`schema:id:<uuid>`,
 * `schema:gid:<n>`, `subject:<s>:version:<v>`, `subject:<s>:latest`); L2 keys
 * get a configurable prefix, the cache format version and the serializer's
 * id, so a deploy that changes the entry shape or the serializer reads none of
 * the old entries (they age out by TTL) instead of misreading them.
 */

/** Bump when the shape of a cached entry changes. */
export const CACHE_FORMAT_VERSION = 1;

export interface KeyNamespace {
  /** Everything before the logical key, e.g. `registry:v1.j:`. */
  readonly prefix: string;
  full(key: string): string;
}

export function createKeyNamespace(
  prefix: string,
  serializerId: string,
  formatVersion: number = CACHE_FORMAT_VERSION,
): KeyNamespace {
  const head = `${prefix}:v${formatVersion}.${serializerId}:`;
  return { prefix: head, full: (key) => head + key };
}

/** The logical keys the registry uses; one place so writers and readers agree. */
export const cacheKeys = {
  schemaById: (id: string) => `schema:id:${id}`,
  schemaByGlobalId: (globalId: number) => `schema:gid:${globalId}`,
  subjectVersion: (subject: string, version: string) => `subject:${subject}:version:${version}`,
  subjectLatest: (subject: string) => `subject:${subject}:latest`,
  /** A schema as the Confluent API serves it by its id (the content id). */
  schemaByContentId: (contentId: number) => `content-id:${contentId}`,
};
