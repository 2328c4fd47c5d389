/**
 * Cache key namespace. Callers choose logical keys (`schema:id:<uuid>`,
 * `schema:gid:<n>`, `subject:<s>:version:<v>`, `subject:<s>:latest`); L2 keys
 * get a configurable prefix, the cache format version and the serializer's
 * id, so a deploy that changes the entry shape or the serializer reads none of
 * the old entries (they age out by TTL) instead of misreading them.
 *
 * In L2 a subject's keys carry the subject as a Redis Cluster hash tag
 * (`registry:v1.j:subject:{orders-value}:latest`): Redis hashes only what is
 * inside the first `{…}`, so the keys one change to a subject invalidates
 * together share a slot, and their DEL stays one command on a cluster. Keys
 * of ids (`schema:id:…`, `schema:gid:…`, `content-id:…`) are hashed whole,
 * spreading the load over the nodes. Logical keys (L1, the invalidation bus)
 * stay untagged; the tag is a detail of how L2 stores them.
 */

/** Bump when the shape of a cached entry changes. */
export const CACHE_FORMAT_VERSION = 1;

export interface KeyNamespace {
  /** Everything before the logical key, e.g. `registry:v1.j:`. */
  readonly prefix: string;
  full(key: string): string;
}

/**
 * `prefix` should hold no `{`: a hash tag there would put every key of the
 * registry in one cluster slot, on one node.
 */
export function createKeyNamespace(
  prefix: string,
  serializerId: string,
  formatVersion: number = CACHE_FORMAT_VERSION,
): KeyNamespace {
  const head = `${prefix}:v${formatVersion}.${serializerId}:`;
  return { prefix: head, full: (key) => head + hashTagged(key) };
}

const SUBJECT = "subject:";
const LATEST = ":latest";
const VERSION = ":version:";

/** The logical keys the registry uses; one place so writers and readers agree. */
export const cacheKeys = {
  schemaById: (id: string) => `schema:id:${id}`,
  schemaByGlobalId: (globalId: number) => `schema:gid:${globalId}`,
  subjectVersion: (subject: string, version: string) => `${SUBJECT}${subject}${VERSION}${version}`,
  subjectLatest: (subject: string) => `${SUBJECT}${subject}${LATEST}`,
  /** A schema as the Confluent API serves it by its id (the content id). */
  schemaByContentId: (contentId: number) => `content-id:${contentId}`,
};

/** The subject of a `subjectLatest` key; null for any other key. */
export function subjectOfLatestKey(key: string): string | null {
  return key.startsWith(SUBJECT) && key.endsWith(LATEST)
    ? key.slice(SUBJECT.length, key.length - LATEST.length)
    : null;
}

/**
 * `key` as L2 stores it: a subject's keys with the subject in braces, others
 * as they are. A version has no `:` (it is a normalized semantic version), so
 * the last `:version:` is the separator whatever the subject holds; the
 * subject itself is kept whole, so two subjects never share a key. A subject
 * holding `}` is tagged by its part before the first one, the same for all its
 * keys; one that starts with `}` gets no tag (Redis ignores an empty `{}`),
 * and the cluster driver splits its keys by slot like any others.
 */
export function hashTagged(key: string): string {
  if (!key.startsWith(SUBJECT)) return key;
  let end: number;
  if (key.endsWith(LATEST)) end = key.length - LATEST.length;
  else {
    end = key.lastIndexOf(VERSION);
    if (end < SUBJECT.length || key.includes(":", end + VERSION.length)) return key;
  }
  return `${SUBJECT}{${key.slice(SUBJECT.length, end)}}${key.slice(end)}`;
}
