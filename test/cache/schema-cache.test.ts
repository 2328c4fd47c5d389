/**
 * The registry's cached read path in isolation (an L1-only TieredCache over
 * a counting fake reader; the tiers themselves are tested elsewhere): which
 * key each lookup uses, deleted rows filtered per read, the keys a change
 * drops, L2 entries decoded with dates revived (and a bad one a miss), the
 * content cache for object-store rows, and the figures for /stats.
 */
import { describe, expect, test } from "bun:test";
import { cacheContentLoads, MAX_CACHED_CONTENT_BYTES } from "../../src/cache/content-cache.ts";
import { TieredCache } from "../../src/cache/index.ts";
import {
  cachedSchemaRecord,
  cacheInvalidationListener,
  createCachedSchemaReader,
  keysOf,
  refreshLatestAhead,
} from "../../src/cache/schema-cache.ts";
import { decodeEntry, encodeEntry } from "../../src/cache/serializers/entry-codec.ts";
import { jsonSerializer } from "../../src/cache/serializers/json-serializer.ts";
import { toCacheReport } from "../../src/cache/stats-report.ts";
import type { SchemaRecord } from "../../src/domain/types.ts";
import type { SchemaReader } from "../../src/registry/schema-reader.ts";

function record(overrides: Partial<SchemaRecord> = {}): SchemaRecord {
  return {
    id: "0f189485-eb52-4766-8203-fc6e1671a6d7",
    globalId: 7,
    subject: "com.acme.Prompt",
    version: "1.2.0+build.5",
    contentId: 3,
    subjectVersion: 2,
    references: [{ name: "common.json", subject: "com.acme.Common", version: 1 }],
    schemaType: "json",
    state: "active",
    content: { type: "object" },
    contentHash: "ab".repeat(32),
    contentSize: 17,
    contentLocation: "inline",
    contentKey: null,
    metadata: { description: "d", tags: ["t"] },
    createdAt: new Date("2026-11-25T10:00:00.000Z"),
    updatedAt: new Date("2026-11-25T11:00:00.000Z"),
    deletedAt: null,
    ...overrides,
  };
}

function countingReader(rows: SchemaRecord[]) {
  const calls: string[] = [];
  const reader: SchemaReader = {
    async getById(ref, options) {
      calls.push(`getById ${JSON.stringify(ref)} ${options?.includeDeleted === true}`);
      const row = rows.find((r) => ("id" in ref ? r.id === ref.id : r.globalId === ref.globalId));
      return row && (row.deletedAt === null || options?.includeDeleted) ? row : null;
    },
    async getBySubjectVersion(subject, version, options) {
      calls.push(`version ${subject} ${version} ${options?.includeDeleted === true}`);
      const key = version.split("+")[0];
      const row = rows.find((r) => r.subject === subject && r.version.split("+")[0] === key);
      return row && (row.deletedAt === null || options?.includeDeleted) ? row : null;
    },
    async getLatest(subject) {
      calls.push(`latest ${subject}`);
      return rows.find((r) => r.subject === subject && r.deletedAt === null) ?? null;
    },
  };
  return { reader, calls };
}

describe("cached reader", () => {
  test("one load per key; both id kinds and versions with or without build metadata hit the cache", async () => {
    const row = record();
    const { reader, calls } = countingReader([row]);
    const cached = createCachedSchemaReader(new TieredCache({ l1: { maxEntries: 100 } }), reader);
    for (let i = 0; i < 3; i++) {
      expect(await cached.getById({ id: row.id })).toBe(row);
      expect(await cached.getById({ globalId: 7 })).toBe(row);
      expect(await cached.getBySubjectVersion(row.subject, "1.2.0")).toBe(row);
      expect(await cached.getBySubjectVersion(row.subject, "1.2.0+other")).toBe(row);
      expect(await cached.getLatest(row.subject)).toBe(row);
    }
    expect(calls).toEqual([
      `getById {"id":"${row.id}"} true`,
      'getById {"globalId":7} true',
      "version com.acme.Prompt 1.2.0 true",
      "latest com.acme.Prompt",
    ]);
  });

  test("a soft-deleted row is one entry, visible only to reads that include deleted ones", async () => {
    const row = record({ deletedAt: new Date() });
    const { reader, calls } = countingReader([row]);
    const cached = createCachedSchemaReader(new TieredCache({ l1: { maxEntries: 100 } }), reader);
    expect(await cached.getById({ id: row.id })).toBeNull();
    expect(await cached.getById({ id: row.id }, { includeDeleted: true })).toBe(row);
    expect(await cached.getBySubjectVersion(row.subject, "1.2.0")).toBeNull();
    expect(await cached.getBySubjectVersion(row.subject, "1.2.0", { includeDeleted: true })).toBe(row);
    expect(calls).toHaveLength(2);
  });

  test("a missing id is a negative entry; a change drops every key of its row", async () => {
    const row = record();
    const rows: SchemaRecord[] = [];
    const { reader, calls } = countingReader(rows);
    const cache = new TieredCache({ l1: { maxEntries: 100 } });
    const cached = createCachedSchemaReader(cache, reader);
    expect(await cached.getById({ globalId: 7 })).toBeNull();
    expect(await cached.getById({ globalId: 7 })).toBeNull();
    expect(await cached.getLatest(row.subject)).toBeNull();
    expect(calls).toHaveLength(2);

    rows.push(row);
    await cacheInvalidationListener(cache).schemaChanged({ kind: "registered", schema: row });
    expect(await cached.getById({ globalId: 7 })).toBe(row);
    expect(await cached.getLatest(row.subject)).toBe(row);
    expect(keysOf(row).sort()).toEqual([
      "content-id:3",
      `schema:gid:7`,
      `schema:id:${row.id}`,
      "subject:com.acme.Prompt:latest",
      "subject:com.acme.Prompt:version:1.2.0",
    ]);
  });
});

describe("refresh-ahead of a subject's latest", () => {
  test("a change's invalidation reads a held latest again, so its next reader hits L1; a cold one or unsubscribed, it does not", async () => {
    const first = record();
    const rows = [first];
    const { reader, calls } = countingReader(rows);
    const cache = new TieredCache({ l1: { maxEntries: 100 } });
    const cached = createCachedSchemaReader(cache, reader);
    const stop = refreshLatestAhead(cache, cached);
    expect(await cached.getLatest(first.subject)).toBe(first);

    const next = record({ id: "5b0b6c07-54c5-4e69-9c4b-1f0f0b0c2f11", globalId: 8, version: "1.3.0" });
    rows.unshift(next);
    await cacheInvalidationListener(cache).schemaChanged({ kind: "registered", schema: next });
    await Bun.sleep(0);
    expect(calls.filter((call) => call.startsWith("latest"))).toHaveLength(2);
    expect(cache.peek<SchemaRecord>(`subject:${first.subject}:latest`)?.value).toBe(next);

    // A subject nobody read here is not loaded again.
    const cold = record({
      id: "7d1f6a3e-2b7c-4c55-9a43-0e3f1f2c9b10",
      globalId: 9,
      subject: "com.acme.Cold",
    });
    await cacheInvalidationListener(cache).schemaChanged({ kind: "registered", schema: cold });
    await Bun.sleep(0);
    expect(calls.filter((call) => call.startsWith("latest"))).toHaveLength(2);

    stop();
    await cacheInvalidationListener(cache).schemaChanged({ kind: "state_changed", schema: next });
    await Bun.sleep(0);
    expect(calls.filter((call) => call.startsWith("latest"))).toHaveLength(2);
    expect(cache.peek(`subject:${first.subject}:latest`)).toBeUndefined();
  });
});

describe("records from L2", () => {
  test("decode with their dates revived", () => {
    const row = record({ deletedAt: new Date("2026-11-25T12:00:00.000Z") });
    const text = encodeEntry(jsonSerializer, row);
    const decoded = decodeEntry(jsonSerializer, text, cachedSchemaRecord);
    expect(decoded?.value).toEqual(row);
    expect(decoded?.value?.createdAt).toBeInstanceOf(Date);
    expect(decoded?.value?.deletedAt).toBeInstanceOf(Date);
  });

  test("an entry of the wrong shape or with a bad date is a miss", () => {
    const bad = [
      { ...record(), createdAt: "yesterday" },
      { ...record(), state: "gone" },
      { ...record(), globalId: "7" },
      { id: "x" },
    ];
    for (const value of bad) {
      expect(
        decodeEntry(jsonSerializer, jsonSerializer.encode({ d: value }), cachedSchemaRecord),
      ).toBeUndefined();
    }
  });
});

describe("content of object-store rows", () => {
  test("is loaded once per content hash", async () => {
    let loads = 0;
    const load = cacheContentLoads(
      async () => {
        loads++;
        return { type: "string" };
      },
      new TieredCache({ l1: { maxEntries: 100 } }),
    );
    const tier = { load };
    const stored = record({ contentLocation: "object_store", content: null, contentKey: "k" });
    expect(await tier.load(stored)).toEqual({ type: "string" });
    expect(await tier.load({ ...stored, id: "another row, same content" })).toEqual({ type: "string" });
    expect(loads).toBe(1);
    await tier.load({ ...stored, contentHash: "cd".repeat(32) });
    expect(loads).toBe(2);
    // Over the bound: straight from the store every time.
    const large = { ...stored, contentHash: "ef".repeat(32), contentSize: MAX_CACHED_CONTENT_BYTES + 1 };
    await tier.load(large);
    await tier.load(large);
    expect(loads).toBe(4);
  });
});

describe("figures for /stats", () => {
  test("hit rates are null before any lookup, then per tier", async () => {
    const cache = new TieredCache({ l1: { maxEntries: 100 } });
    expect(toCacheReport(cache.stats())).toEqual({
      tiers: { l1: { hits: 0, misses: 0, hitRate: null, evictions: 0, errors: 0 } },
      hitRate: null,
    });
    await cache.get("k", async () => 1);
    await cache.get("k", async () => 1);
    const report = toCacheReport(cache.stats());
    expect(report.tiers.l1).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5 });
    expect(report.hitRate).toBe(0.5);
  });
});
