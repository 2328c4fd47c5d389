/**
 * The cache of object-store content: content of 1 MiB and more that a read
 * asks the registry to inline is kept in an L1 of its own, keyed by its
 * content hash (content-addressed, so it never needs invalidating), and
 * never in Redis, where values that large would crowd out the schemas.
 */
import type { SchemaRecord } from "../domain/types.ts";
import type { TieredCache } from "./index.ts";

/** Loads a row's content from where it lives. */
export type ContentLoad = (record: SchemaRecord) => Promise<unknown>;

/** Key of object-store content: content-addressed, so it never needs invalidating. */
export function contentKey(record: SchemaRecord): string {
  return `content:${record.schemaType}:${record.contentHash}`;
}

/** Largest content cached by default, bytes (the composition root sets its own bound: app/cache-tier.ts). */
export const MAX_CACHED_CONTENT_BYTES = 1024 * 1024;

/**
 * Caches what `load` returns (content kept in the object store) under the
 * content's hash, up to `maxBytes` of canonical content: a larger one is
 * loaded from the store each time. `cache` is meant to be an L1 of the
 * content's own (app/cache-tier.ts), apart from the schemas'.
 */
export function cacheContentLoads(
  load: ContentLoad,
  cache: TieredCache,
  maxBytes: number = MAX_CACHED_CONTENT_BYTES,
): ContentLoad {
  return async (record) => {
    if (record.contentSize > maxBytes) return load(record);
    return cache.get(contentKey(record), async () => {
      const loaded = await load(record);
      // A store answering "nothing" for a row that names its content is an error, not a negative entry.
      if (loaded === null || loaded === undefined) {
        throw new Error(`the object store returned no content for schema ${record.id}`);
      }
      return loaded;
    });
  };
}
