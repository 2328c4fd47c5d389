/**
 * The registry's read path through the tiered cache: a SchemaReader that
 * answers the hot lookups (by UUID, by global_id, by subject and version, a
 * subject's latest) from L1 → L2 → the backend, the keys every write must drop,
 * the change listener that drops them, the content cache for object-store
 * rows, and the adapter of the cache's figures to `/api/v1/stats`.
 *
 * One entry per schema row and key kind, loaded with deleted rows included:
 * whether a soft-deleted row is visible is the caller's option, not the
 * cache's, so both kinds of read share the entry and one invalidation covers
 * them. A missing row is a negative entry (the cache keeps it briefly).
 */
import * as v from "valibot";
import { parseSemVer, versionKey } from "../domain/semver.ts";
import type { ReadOptions, SchemaRef } from "../domain/types.ts";
import {
  CONTENT_LOCATIONS,
  SCHEMA_STATES,
  SCHEMA_TYPES,
  type SchemaMetadata,
  type SchemaRecord,
} from "../domain/types.ts";
import type { ContentTier } from "../registry/content-tier.ts";
import type { CacheStatsReport, CacheTierStats } from "../registry/registry-service.ts";
import type { SchemaChange, SchemaChangeListener } from "../registry/schema-changes.ts";
import type { SchemaReader } from "../registry/schema-reader.ts";
import { type CacheStats, cacheKeys, type TieredCache } from "./index.ts";

// JSON turns Dates into ISO strings on the way into L2; they come back as Dates here or the entry is a miss.
const date = v.pipe(
  v.string(),
  v.transform((text) => new Date(text)),
  v.check((value) => !Number.isNaN(value.getTime()), "not a date"),
);

const metadata: v.GenericSchema<unknown, SchemaMetadata> = v.looseObject({
  description: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
  owner: v.optional(v.string()),
  custom: v.optional(v.record(v.string(), v.unknown())),
});

/** A SchemaRecord as it comes back from L2: checked field by field, dates revived. */
export const cachedSchemaRecord: v.GenericSchema<unknown, SchemaRecord> = v.object({
  id: v.string(),
  globalId: v.number(),
  subject: v.string(),
  version: v.string(),
  schemaType: v.picklist(SCHEMA_TYPES),
  state: v.picklist(SCHEMA_STATES),
  content: v.unknown(),
  contentHash: v.string(),
  contentSize: v.number(),
  contentLocation: v.picklist(CONTENT_LOCATIONS),
  contentKey: v.nullable(v.string()),
  metadata,
  createdAt: date,
  updatedAt: date,
  deletedAt: v.nullable(date),
}) as v.GenericSchema<unknown, SchemaRecord>;

const RECORD_OPTIONS = { schema: cachedSchemaRecord };
const WITH_DELETED: ReadOptions = { includeDeleted: true };

/** The cache key of a subject's version: build metadata dropped, as the backend matches it. */
export function subjectVersionKey(subject: string, version: string): string | null {
  const parsed = parseSemVer(version);
  return parsed === null ? null : cacheKeys.subjectVersion(subject, versionKey(parsed));
}

/**
 * Every key a change to `schema` can make wrong. The same four for every kind
 * of change: a register can replace negative entries (of its id, its
 * global_id, its version) and the subject's latest; a state change or a
 * delete changes the row under its three keys and may change the latest.
 */
export function keysOf(schema: SchemaRecord): string[] {
  const keys = [
    cacheKeys.schemaById(schema.id),
    cacheKeys.schemaByGlobalId(schema.globalId),
    cacheKeys.subjectLatest(schema.subject),
  ];
  const version = subjectVersionKey(schema.subject, schema.version);
  if (version !== null) keys.push(version);
  return keys;
}

function visible(record: SchemaRecord | null, options: ReadOptions | undefined): SchemaRecord | null {
  if (record === null) return null;
  return record.deletedAt !== null && options?.includeDeleted !== true ? null : record;
}

function idKey(ref: SchemaRef): string {
  return "id" in ref ? cacheKeys.schemaById(ref.id) : cacheKeys.schemaByGlobalId(ref.globalId);
}

/** The SchemaReader of the read path, with `source` (the backend) behind the cache. */
export function createCachedSchemaReader(cache: TieredCache, source: SchemaReader): SchemaReader {
  return {
    async getById(ref: SchemaRef, options?: ReadOptions) {
      const record = await cache.get(idKey(ref), () => source.getById(ref, WITH_DELETED), RECORD_OPTIONS);
      return visible(record, options);
    },
    peekById(ref: SchemaRef, options?: ReadOptions) {
      const hit = cache.peek<SchemaRecord>(idKey(ref));
      return hit === undefined ? undefined : visible(hit.value, options);
    },
    async getBySubjectVersion(subject: string, version: string, options?: ReadOptions) {
      const key = subjectVersionKey(subject, version);
      // Not a version at all: nothing to find, and nothing worth a cache entry.
      if (key === null) return source.getBySubjectVersion(subject, version, options);
      const record = await cache.get(
        key,
        () => source.getBySubjectVersion(subject, version, WITH_DELETED),
        RECORD_OPTIONS,
      );
      return visible(record, options);
    },
    getLatest(subject: string) {
      return cache.get(cacheKeys.subjectLatest(subject), () => source.getLatest(subject), RECORD_OPTIONS);
    },
  };
}

/**
 * Drops the keys of every committed change, here at once and (through the
 * cache's bus) on every other instance. It runs after the commit: the bus's
 * NOTIFY then goes out on its own, delivered at once.
 */
export function cacheInvalidationListener(cache: TieredCache): SchemaChangeListener {
  return {
    async schemaChanged(change: SchemaChange) {
      await cache.invalidate(keysOf(change.schema));
    },
  };
}

/** Told of every change by each listener in turn; the first failure is rethrown after all have run. */
export function combineListeners(...listeners: SchemaChangeListener[]): SchemaChangeListener {
  return {
    async schemaChanged(change) {
      const results = await Promise.allSettled(listeners.map((listener) => listener.schemaChanged(change)));
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

/** Key of object-store content: content-addressed, so it never needs invalidating. */
export function contentKey(record: SchemaRecord): string {
  return `content:${record.schemaType}:${record.contentHash}`;
}

/** Largest content cached by default, bytes (the composition root sets its own bound: cache-tier.ts). */
export const MAX_CACHED_CONTENT_BYTES = 1024 * 1024;

/**
 * Caches what `tier.load` returns (content kept in the object store) under
 * the content's hash, up to `maxBytes` of canonical content: a larger one is
 * loaded from the store each time. `cache` is meant to be an L1 of the
 * content's own (cache-tier.ts), apart from the schemas'.
 */
export function cacheContentLoads(
  tier: ContentTier,
  cache: TieredCache,
  maxBytes: number = MAX_CACHED_CONTENT_BYTES,
): ContentTier {
  return {
    place: (content) => tier.place(content),
    discard: (placed) => tier.discard(placed),
    async load(record) {
      if (record.contentSize > maxBytes) return tier.load(record);
      const value = await cache.get(contentKey(record), async () => {
        const loaded = await tier.load(record);
        // A tier answering "nothing" for a row that names its content is an error, not a negative entry.
        if (loaded === null || loaded === undefined) {
          throw new Error(`the object store returned no content for schema ${record.id}`);
        }
        return loaded;
      });
      return value;
    },
    open: (record) => tier.open(record),
    link: (record) => tier.link(record),
    release: (record) => tier.release(record),
  };
}

function rate(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}

/**
 * The cache's figures as `/api/v1/stats` reports them (hit rates null before
 * any lookup); with `content`, once it has been used, the object-store
 * content's own L1 as tier `content` (outside the overall hit rate, which is
 * the schemas'); with `query`, likewise the search and list results as tier `query`.
 */
export function toCacheStatsReport(
  stats: CacheStats,
  content?: CacheStats,
  query?: CacheStats,
): CacheStatsReport {
  const tiers: Record<string, CacheTierStats> = {};
  if (stats.l1 !== null) {
    tiers.l1 = {
      hits: stats.l1.hits,
      misses: stats.l1.misses,
      hitRate: rate(stats.l1.hits, stats.l1.misses),
      evictions: stats.l1.evictions,
      errors: 0,
    };
  }
  if (stats.l2 !== null) {
    tiers.l2 = {
      hits: stats.l2.hits,
      misses: stats.l2.misses,
      hitRate: rate(stats.l2.hits, stats.l2.misses),
      errors: stats.l2.errors + stats.l2.decodeErrors,
      breaker: stats.l2.breaker.state,
    };
  }
  // Listed once used: most deployments have no object store, and their report stays as it was.
  if (content?.l1 && content.l1.hits + content.l1.misses > 0) {
    tiers.content = {
      hits: content.l1.hits,
      misses: content.l1.misses,
      hitRate: rate(content.l1.hits, content.l1.misses),
      evictions: content.l1.evictions,
      errors: content.loader.errors,
    };
  }
  // Search and list results (query-result-cache.ts), likewise once used and outside the overall rate.
  if (query?.l1 && query.l1.hits + query.l1.misses > 0) {
    tiers.query = {
      hits: query.l1.hits,
      misses: query.l1.misses,
      hitRate: rate(query.l1.hits, query.l1.misses),
      evictions: query.l1.evictions,
      errors: query.loader.errors,
    };
  }
  return { tiers, hitRate: stats.requests === 0 ? null : stats.hitRate };
}
