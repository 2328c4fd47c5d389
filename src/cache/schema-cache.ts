/**
 * The registry's read path through the tiered cache: a reader that answers
 * the hot lookups (by UUID, by global_id, by subject and version, a
 * subject's latest) from L1 → L2 → the repository, the keys every write must
 * drop, and the change listener that drops them.
 *
 * One entry per schema row and key kind, loaded with deleted rows included:
 * whether a soft-deleted row is visible is the caller's option, not the
 * cache's, so both kinds of read share the entry and one invalidation covers
 * them. A missing row is a negative entry (the cache keeps it briefly).
 */
import * as v from "valibot";
import type { SchemaChange, SchemaChangeListener } from "../domain/schema-changes.ts";
import { parseSemVer, versionKey } from "../domain/semver.ts";
import type { ReadOptions, SchemaRef } from "../domain/types.ts";
import {
  CONTENT_LOCATIONS,
  SCHEMA_STATES,
  SCHEMA_TYPES,
  type SchemaMetadata,
  type SchemaRecord,
} from "../domain/types.ts";
import { cacheKeys, type TieredCache } from "./index.ts";
import { subjectOfLatestKey } from "./keys.ts";

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
  // An entry cached before these fields existed fails to decode: a miss, read again from the database.
  contentId: v.number(),
  subjectVersion: v.number(),
  references: v.array(v.object({ name: v.string(), subject: v.string(), version: v.number() })),
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
  // Rows written before content ids existed have none.
  if (typeof schema.contentId === "number") keys.push(cacheKeys.schemaByContentId(schema.contentId));
  return keys;
}

function visible(record: SchemaRecord | null, options: ReadOptions | undefined): SchemaRecord | null {
  if (record === null) return null;
  return record.deletedAt !== null && options?.includeDeleted !== true ? null : record;
}

function idKey(ref: SchemaRef): string {
  return "id" in ref ? cacheKeys.schemaById(ref.id) : cacheKeys.schemaByGlobalId(ref.globalId);
}

/** The lookups the cached reader answers, and reads through to on a miss (the registry's SchemaReader port has this shape). */
export interface SchemaSource {
  getById(ref: SchemaRef, options?: ReadOptions): SchemaRecord | null | Promise<SchemaRecord | null>;
  getBySubjectVersion(subject: string, version: string, options?: ReadOptions): Promise<SchemaRecord | null>;
  getLatest(subject: string): Promise<SchemaRecord | null>;
}

/** The read path's SchemaReader, with `source` (the repository) behind the cache. */
export function createCachedSchemaReader(cache: TieredCache, source: SchemaSource) {
  return {
    getById(ref: SchemaRef, options?: ReadOptions) {
      const key = idKey(ref);
      // An L1 hit answers synchronously (schema-reader.ts says why); anything else goes the tiers' way.
      const held = cache.peek<SchemaRecord>(key);
      if (held !== undefined) return visible(held.value, options);
      return cache
        .get(key, async () => source.getById(ref, WITH_DELETED), RECORD_OPTIONS)
        .then((record) => visible(record, options));
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
/**
 * Refresh-ahead of a subject's latest, the one key every register drops and
 * its readers ask for most: once a write's invalidation has dropped it (here
 * or, through the bus, on another instance), it is read again through the
 * cache. Without it the next read of the latest waited for PostgreSQL, and at
 * 5 % writes those waits were most of the reads that missed L1, the p95 of
 * reads in the load test. The load goes through the cache's single flight, so
 * a later write's invalidation stops it from storing what that write changed;
 * a failure only leaves the miss there would have been. Answers the
 * unsubscribe.
 */
export function refreshLatestAhead(cache: TieredCache, reader: Pick<SchemaSource, "getLatest">): () => void {
  return cache.onDropped((keys) => {
    for (const key of keys) {
      const subject = subjectOfLatestKey(key);
      if (subject !== null) reader.getLatest(subject).catch(() => {});
    }
  });
}

export function cacheInvalidationListener(cache: TieredCache): SchemaChangeListener {
  return {
    async schemaChanged(change: SchemaChange) {
      await cache.invalidate(keysOf(change.schema));
    },
  };
}
