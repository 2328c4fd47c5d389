/**
 * Object-store content through the cache: the registry on PostgreSQL with
 * S3_BUCKET on s3rver; a 2 MiB schema's content, read with include=content,
 * is fetched from the store once and then served from the content's own L1,
 * even with the store failing every request; a content over the per-entry
 * bound is fetched each time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { largeJsonSchema, MiB } from "../content/helpers.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { S3RVER_CREDENTIALS, s3Env, startS3, type TestS3 } from "../support/s3.ts";

const available = await postgresAvailable();

describe.skipIf(!available)("object-store content cached in L1", () => {
  let s3: TestS3;
  let api: TestRegistry;
  let storeGets = 0;

  beforeAll(async () => {
    s3 = await startS3();
    api = await startTestRegistry({
      database: "postgres",
      env: s3Env(s3, {
        // 64 MiB of L1: 16 MiB for content, at most 2 MiB each.
        CACHE_L1_MAX_BYTES: String(64 * MiB),
      }),
      objectStore: { credentials: { ...S3RVER_CREDENTIALS } },
    });
  });
  afterAll(async () => {
    await api?.close();
    await s3?.stop();
  });

  /** Counts the store's object reads by failing none of them (a fault that matches nothing but counts). */
  const countGets = () =>
    s3.injectFault({
      match: (request) => {
        if (request.method === "GET" && request.path.includes("/schemas/")) storeGets++;
        return false;
      },
      status: 500,
      code: "InternalError",
      times: Number.POSITIVE_INFINITY,
    });

  test("read once from the store, then from L1, even with the store failing", async () => {
    const content = largeJsonSchema(MiB + 512 * 1024, 1);
    const created = await api.post("/api/v1/schemas", {
      subject: "cache.s3.Big",
      schema_type: "json",
      content,
    });
    expect(created.status).toBe(201);
    expect(created.body.content_location).toBe("object_store");
    const path = `/api/v1/schemas/${created.body.id}?include=content`;

    countGets();
    const first = await api.get(path);
    expect(first.status).toBe(200);
    expect(first.body.content).toEqual(content);
    expect(storeGets).toBe(1);

    s3.clearFaults();
    s3.injectFault({
      match: (r) => r.method === "GET",
      status: 503,
      code: "SlowDown",
      times: Number.POSITIVE_INFINITY,
    });
    const second = await api.get(path);
    expect(second.status).toBe(200);
    expect(second.body.content).toEqual(content);
    s3.clearFaults();

    const stats = (await api.get("/api/v1/stats")).body.cache.tiers.content;
    expect(stats).toMatchObject({ hits: 1, misses: 1 });
  });

  test("a content over the per-entry bound is read from the store each time", async () => {
    const content = largeJsonSchema(3 * MiB, 2);
    const created = await api.post("/api/v1/schemas", {
      subject: "cache.s3.Huge",
      schema_type: "json",
      content,
    });
    expect(created.body.content_location).toBe("object_store");
    storeGets = 0;
    countGets();
    for (let i = 0; i < 2; i++) {
      const res = await api.get(`/api/v1/schemas/${created.body.id}?include=content`);
      expect(res.status).toBe(200);
    }
    s3.clearFaults();
    expect(storeGets).toBe(2);
  });
});
