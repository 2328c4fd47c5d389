/** Cache configuration from the environment: defaults, driver choice, and clear refusals. */
import { expect, test } from "bun:test";
import { parseCacheConfig } from "../../src/cache/config.ts";

test("defaults give an L1-only cache with the documented bounds", () => {
  const config = parseCacheConfig({});
  expect(config.l1).toEqual({
    maxEntries: 10_000,
    maxBytes: 64 * 1024 * 1024,
    maxEntryBytes: 1024 * 1024,
    ttlMs: 3_600_000,
    idleMs: 1_800_000,
  });
  expect(config.l2).toBeNull();
  expect(config).toMatchObject({
    l2TtlSeconds: 3_600,
    negativeTtlSeconds: { l1: 30, l2: 60 },
    serializer: "json",
    l2TimeoutMs: 50,
    warm: { onStartup: false, size: 100 },
  });
});

test("REDIS_URL picks ioredis, even when Upstash is configured too", () => {
  const config = parseCacheConfig({
    REDIS_URL: "rediss://cache.internal:6380",
    UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: "t",
  });
  expect(config.l2).toEqual({ kind: "ioredis", url: "rediss://cache.internal:6380" });
});

test("the Upstash pair picks the HTTP driver", () => {
  const config = parseCacheConfig({
    UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: "t",
  });
  expect(config.l2).toEqual({ kind: "upstash", url: "https://x.upstash.io", token: "t" });
});

test("overrides are read, idle expiry follows the TTL unless set", () => {
  const config = parseCacheConfig({
    CACHE_L1_MAX_ENTRIES: "500",
    CACHE_L1_TTL_SECONDS: "60",
    REDIS_TTL_SECONDS: "120",
    CACHE_L1_ENABLED: "true",
    CACHE_WARM_ON_STARTUP: "yes",
    CACHE_WARM_SIZE: "0",
  });
  expect(config.l1).toMatchObject({ maxEntries: 500, ttlMs: 60_000, idleMs: 30_000 });
  expect(config.l2TtlSeconds).toBe(120);
  expect(config.warm).toEqual({ onStartup: true, size: 0 });
  expect(parseCacheConfig({ CACHE_L1_IDLE_SECONDS: "10" }).l1).toMatchObject({ idleMs: 10_000 });
  expect(parseCacheConfig({ CACHE_L1_ENABLED: "false" }).l1).toBe(false);
});

test("bad values are refused with the variable named", () => {
  expect(() => parseCacheConfig({ CACHE_L1_MAX_ENTRIES: "ten" })).toThrow(/CACHE_L1_MAX_ENTRIES/);
  expect(() => parseCacheConfig({ CACHE_L1_MAX_ENTRIES: "0" })).toThrow(/at least 1/);
  expect(() => parseCacheConfig({ REDIS_URL: "http://nope" })).toThrow(/REDIS_URL/);
  expect(() => parseCacheConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" })).toThrow(/TOKEN/);
  expect(() => parseCacheConfig({ CACHE_SERIALIZER: "xml" })).toThrow(/CACHE_SERIALIZER/);
});
