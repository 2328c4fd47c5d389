/**
 * /metrics of a registry on the machine's PostgreSQL, driven through its
 * HTTP API: the registered, fetched and deleted counters, HTTP durations by
 * route template (never a schema id or subject in a label), query durations
 * by backend operation, cache figures read from a real tiered cache (L1 and
 * Redis; a dead Redis opening the breaker), S3 figures from a store on
 * s3rver, and the sizes of content that goes through the object store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TieredCache } from "../../src/cache/index.ts";
import { createRemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import type { ContentBucket } from "../../src/content/content-bucket.ts";
import type { ObjectStoreStats } from "../../src/content/object-store.ts";
import type { CacheFigures } from "../../src/observability/registry-metrics.ts";
import { type ContentStore, inlineContentStore } from "../../src/registry/content-store.ts";
import { jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import {
  deleteByPrefix,
  REDIS_TEST_URL,
  requireRedis,
  startThrowawayRedis,
  uniquePrefix,
} from "../support/redis.ts";
import { startS3, type TestS3 } from "../support/s3.ts";
import { type MetricFamily, parseExposition, samplesOf, sampleValue } from "./exposition-parser.ts";

const available = await postgresAvailable();
const redisUp = available && (await requireRedis("metrics of the Redis cache tier"));

/** What the test points the registry's metric sources at, changed per test. */
const sources: {
  cache: (() => CacheFigures | null) | null;
  objectStore: (() => ObjectStoreStats | null) | null;
  content: ContentBucket | null;
} = { cache: null, objectStore: null, content: null };

/**
 * A content tier on the real object store, as small as the test needs:
 * content of 2 KiB or more goes to the bucket under its content address.
 */
const bucketTier: ContentStore = {
  ...inlineContentStore,
  async place(content) {
    if (!sources.content || content.contentSize < 2048) {
      return { contentLocation: "inline", content: content.value, contentKey: null };
    }
    const bytes = new TextEncoder().encode(content.canonicalText);
    const stored = await sources.content.putContent(bytes, content.schemaType);
    return { contentLocation: "object_store", content: null, contentKey: stored.key };
  },
  async discard(placed) {
    if (placed.contentKey) await sources.content?.deleteContent(placed.contentKey);
  },
  async load(record) {
    const bytes = await sources.content!.readContent(record.contentKey!);
    return JSON.parse(new TextDecoder().decode(bytes));
  },
  async open(record) {
    const bytes = await sources.content!.readContent(record.contentKey!);
    return new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  },
  async link() {
    return null;
  },
  async release() {},
};

let api: TestRegistry;

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await api.get("/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(res.text);
}

/** A sample's value, 0 when the series does not exist yet. */
function value(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}) {
  const found = samplesOf(families, name, labels);
  return found.reduce((sum, s) => sum + s.value, 0);
}

beforeAll(async () => {
  if (!available) return;
  api = await startTestRegistry({
    database: "postgres",
    extend: async () => ({
      content: bucketTier,
      metrics: {
        cache: () => sources.cache?.() ?? null,
        objectStore: () => sources.objectStore?.() ?? null,
      },
    }),
  });
});
afterAll(async () => {
  await api?.close();
});

describe.skipIf(!available)("registry metrics through the HTTP API", () => {
  test("the exposition parses, and every family has our prefix or a standard process name", async () => {
    const families = await scrape();
    expect(families.size).toBeGreaterThan(5);
    for (const name of families.keys()) expect(name).toMatch(/^(schema_registry_|process_)/);
    for (const family of families.values()) expect(family.help.length).toBeGreaterThan(0);
    // Known series exist at 0 before the first event, so rate() works from the start.
    expect(
      sampleValue(families, "schema_registry_schemas_registered_total", {
        schema_type: "protobuf",
        result: "created",
      }),
    ).toBe(0);
    expect(sampleValue(families, "schema_registry_runtime_info", { runtime: "bun" })).toBe(1);
  });

  test("registers count by schema type and result", async () => {
    const before = await scrape();
    const first = await api.post("/api/v1/schemas", {
      subject: "metrics.Registered",
      schema_type: "json",
      content: jsonSchema(1),
    });
    const again = await api.post("/api/v1/schemas", {
      subject: "metrics.Registered",
      schema_type: "json",
      content: jsonSchema(1),
    });
    const avro = await api.post("/api/v1/schemas", {
      subject: "metrics.Avro",
      schema_type: "avro",
      content: { type: "record", name: "R", fields: [{ name: "a", type: "string" }] },
    });
    const invalid = await api.post("/api/v1/schemas", {
      subject: "metrics.Invalid",
      schema_type: "avro",
      content: { type: "nope" },
    });
    expect([first.status, again.status, avro.status, invalid.status]).toEqual([201, 200, 201, 422]);

    const after = await scrape();
    const delta = (schema_type: string, result: string) =>
      value(after, "schema_registry_schemas_registered_total", { schema_type, result }) -
      value(before, "schema_registry_schemas_registered_total", { schema_type, result });
    expect(delta("json", "created")).toBe(1);
    expect(delta("json", "existing")).toBe(1);
    expect(delta("avro", "created")).toBe(1);
    expect(delta("avro", "existing")).toBe(0);
  });

  test("single-schema reads count by how the schema was asked for; a miss counts nothing", async () => {
    const { body } = await api.post("/api/v1/schemas", {
      subject: "metrics.Fetched",
      schema_type: "json",
      content: jsonSchema(2),
    });
    const before = await scrape();
    for (const path of [
      `/api/v1/schemas/${body.id}`,
      `/api/v1/schemas/${body.global_id}`,
      "/api/v1/subjects/metrics.Fetched/versions/1.0.0",
      "/api/v1/subjects/metrics.Fetched/versions/latest",
      `/api/v1/schemas/${body.id}/content`,
    ]) {
      expect((await api.get(path)).status).toBe(200);
    }
    expect((await api.get("/api/v1/schemas/00000000-0000-4000-8000-000000000000")).status).toBe(404);

    const after = await scrape();
    const delta = (route: string) =>
      value(after, "schema_registry_schemas_fetched_total", { route }) -
      value(before, "schema_registry_schemas_fetched_total", { route });
    expect(["id", "global_id", "subject_version", "latest", "content"].map(delta)).toEqual([1, 1, 1, 1, 1]);
  });

  test("deletes count soft and permanent apart", async () => {
    const { body } = await api.post("/api/v1/schemas", {
      subject: "metrics.Deleted",
      schema_type: "json",
      content: jsonSchema(3),
    });
    const before = await scrape();
    expect((await api.request("DELETE", `/api/v1/schemas/${body.id}`)).status).toBe(204);
    expect((await api.request("DELETE", `/api/v1/schemas/${body.id}?permanent=true`)).status).toBe(204);
    const after = await scrape();
    const delta = (mode: string) =>
      value(after, "schema_registry_schemas_deleted_total", { mode }) -
      value(before, "schema_registry_schemas_deleted_total", { mode });
    expect([delta("soft"), delta("permanent")]).toEqual([1, 1]);
  });

  test("HTTP durations are labelled by route template and status, never by id or subject", async () => {
    const { body } = await api.post("/api/v1/schemas", {
      subject: "metrics.SecretSubjectName",
      schema_type: "json",
      content: jsonSchema(4),
    });
    await api.get(`/api/v1/schemas/${body.id}`);
    await api.get("/api/v1/subjects/metrics.SecretSubjectName/versions/latest");
    await api.get("/api/v1/schemas/12345678");
    await api.get(`/no/such/route/${body.id}`);
    const res = await api.get("/metrics");
    expect(res.text).not.toContain(body.id);
    expect(res.text).not.toContain("SecretSubjectName");
    expect(res.text).not.toContain("12345678");

    const families = parseExposition(res.text);
    const count = (labels: Record<string, string>) =>
      value(families, "schema_registry_http_request_duration_seconds_count", labels);
    expect(count({ method: "GET", route: "/api/v1/schemas/:id", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(count({ method: "GET", route: "/api/v1/schemas/:id", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(count({ method: "POST", route: "/api/v1/schemas", status: "201" })).toBeGreaterThanOrEqual(1);
    expect(
      count({ method: "GET", route: "/api/v1/subjects/:subject/versions/latest", status: "200" }),
    ).toBeGreaterThanOrEqual(1);
    expect(count({ method: "GET", route: "unmatched", status: "404" })).toBeGreaterThanOrEqual(1);
    // A request refused before its handler (bad JSON) still counts under its route.
    await api.request("POST", "/api/v1/schemas", {
      raw: "{",
      headers: { "Content-Type": "application/json" },
    });
    const after = parseExposition((await api.get("/metrics")).text);
    expect(
      value(after, "schema_registry_http_request_duration_seconds_count", {
        method: "POST",
        route: "/api/v1/schemas",
        status: "400",
      }),
    ).toBeGreaterThanOrEqual(1);
    // The scrape in flight sees itself.
    expect(sampleValue(after, "schema_registry_http_requests_in_flight")).toBe(1);
  });

  test("query durations are labelled by backend operation", async () => {
    const before = await scrape();
    const { body } = await api.post("/api/v1/schemas", {
      subject: "metrics.Queries",
      schema_type: "json",
      content: jsonSchema(5),
    });
    await api.get(`/api/v1/schemas/${body.id}`);
    await api.get("/api/v1/search?q=metrics");
    const after = await scrape();
    const delta = (operation: string) =>
      value(after, "schema_registry_db_query_duration_seconds_count", { operation }) -
      value(before, "schema_registry_db_query_duration_seconds_count", { operation });
    expect(delta("register")).toBe(1);
    expect(delta("getById")).toBe(1);
    expect(delta("search")).toBe(1);
    const seconds = value(after, "schema_registry_db_query_duration_seconds_sum", { operation: "register" });
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(30);
  });

  test("failed operations and those inside a transaction are timed; the transaction and close are not", async () => {
    const before = await scrape();
    const storage = api.registry.storage;
    await expect(storage.schemas.softDelete({ globalId: 987_654 })).rejects.toThrow("does not exist");
    await storage.schemas.transaction(async (tx) => {
      await tx.schemas.getLatest("metrics.Nothing");
      await tx.schemas.getLatest("metrics.Nothing");
    });
    storage.reads.recordRead("00000000-0000-4000-8000-000000000000");
    const after = await scrape();
    const delta = (operation: string) =>
      value(after, "schema_registry_db_query_duration_seconds_count", { operation }) -
      value(before, "schema_registry_db_query_duration_seconds_count", { operation });
    expect(delta("softDelete")).toBe(1);
    expect(delta("getLatest")).toBe(2);
    const operations = samplesOf(after, "schema_registry_db_query_duration_seconds_count").map(
      (s) => s.labels.operation,
    );
    expect(operations).not.toContain("transaction");
    expect(operations).not.toContain("recordRead");
    expect(operations).not.toContain("close");
  });
});

describe.skipIf(!redisUp)("cache metrics, read from a real tiered cache", () => {
  const prefix = uniquePrefix("metrics");

  afterAll(async () => {
    sources.cache = null;
    await deleteByPrefix(prefix);
  });

  test("hits and misses by tier are the cache's own counts, and a second scrape adds nothing", async () => {
    const cache = new TieredCache({
      l1: { maxEntries: 100 },
      l2: await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL }),
      keyPrefix: prefix,
    });
    sources.cache = () => cache.stats();
    try {
      const load = async () => ({ n: 1 });
      await cache.get("a", load); // L1 miss, L2 miss, loaded
      await cache.flush();
      await cache.get("a", load); // L1 hit
      cache.clearLocal();
      await cache.get("a", load); // L1 miss, L2 hit

      const first = await scrape();
      const second = await scrape();
      for (const families of [first, second]) {
        const requests = (tier: string, result: string) =>
          sampleValue(families, "schema_registry_cache_requests_total", { tier, result });
        expect([requests("l1", "hit"), requests("l1", "miss")]).toEqual([1, 2]);
        expect([requests("l2", "hit"), requests("l2", "miss")]).toEqual([1, 1]);
        expect(sampleValue(families, "schema_registry_cache_circuit_breaker_state")).toBe(0);
        expect(sampleValue(families, "schema_registry_cache_l1_entries")).toBe(1);
      }
    } finally {
      await cache.close();
    }
  });

  test("a dead Redis opens the breaker, and the state gauge says so", async () => {
    const redis = await startThrowawayRedis();
    const cache = new TieredCache({
      l1: false,
      l2: await createRemoteCacheDriver({ kind: "ioredis", url: redis.url }),
      l2Guard: { timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 60_000 } },
      keyPrefix: prefix,
    });
    sources.cache = () => cache.stats();
    try {
      await cache.get("b", async () => 1);
      await cache.flush();
      expect(sampleValue(await scrape(), "schema_registry_cache_circuit_breaker_state")).toBe(0);
      await redis.kill();
      for (let i = 0; i < 6; i++) await cache.get(`k${i}`, async () => i);

      const families = await scrape();
      expect(sampleValue(families, "schema_registry_cache_circuit_breaker_state")).toBe(2);
      expect(sampleValue(families, "schema_registry_cache_circuit_breaker_trips_total")).toBe(1);
      expect(sampleValue(families, "schema_registry_cache_l2_errors_total")).toBeGreaterThanOrEqual(3);
      // An L1-less cache exposes no L1 series rather than zeros that look like a cold cache.
      expect(samplesOf(families, "schema_registry_cache_requests_total", { tier: "l1" })).toEqual([]);
    } finally {
      await cache.close();
      await redis.kill();
    }
  });
});

describe.skipIf(!available)("S3 metrics, read from a store on s3rver", () => {
  let s3: TestS3;

  beforeAll(async () => {
    s3 = await startS3();
    sources.objectStore = () => s3.store.stats();
    sources.content = s3.content;
  });
  afterAll(async () => {
    sources.objectStore = null;
    sources.content = null;
    await s3?.stop();
  });

  test("uploads, downloads, presigned URLs and errors come from the store's counters", async () => {
    const before = await scrape();
    const key = `${s3.store.prefix}metrics-probe`;
    await s3.store.put(key, new TextEncoder().encode("x".repeat(10)), { contentType: "text/plain" });
    await s3.store.get(key);
    await s3.store.presignGet(key);
    await expect(s3.store.get(`${s3.store.prefix}missing`)).rejects.toThrow();
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta("schema_registry_s3_uploads_total")).toBe(1);
    expect(delta("schema_registry_s3_downloads_total")).toBe(1);
    expect(delta("schema_registry_s3_presigned_urls_total", { method: "GET" })).toBe(1);
    expect(delta("schema_registry_s3_errors_total")).toBe(1);
  });

  test("content placed in and read from the object store is measured by size", async () => {
    const big = { ...jsonSchema(6), description: "d".repeat(4000) };
    const before = await scrape();
    const created = await api.post("/api/v1/schemas", {
      subject: "metrics.Large",
      schema_type: "json",
      content: big,
    });
    expect(created.status).toBe(201);
    expect(created.body.content_location).toBe("object_store");
    const read = await api.get(`/api/v1/schemas/${created.body.id}?include=content`);
    expect(read.body.content).toEqual(big);
    const small = await api.post("/api/v1/schemas", {
      subject: "metrics.Small",
      schema_type: "json",
      content: jsonSchema(7),
    });
    expect(small.body.content_location).toBe("inline");

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    const size = created.body.content_size;
    expect(delta("schema_registry_s3_upload_size_bytes_count")).toBe(1);
    expect(delta("schema_registry_s3_upload_size_bytes_sum")).toBe(size);
    expect(delta("schema_registry_s3_download_size_bytes_count")).toBe(1);
    expect(delta("schema_registry_s3_download_size_bytes_sum")).toBe(size);
    // Under 1 MiB: in the first bucket.
    expect(delta("schema_registry_s3_upload_size_bytes_bucket", { le: "1048576" })).toBe(1);
  });
});
