/** createTieredCache builds the cache the project configuration describes: L1 bounds, L1 off, each L2 driver. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CacheConfig } from "../../src/app/config/config-schema.ts";
import { createTieredCache } from "../../src/cache/index.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge.ts";

const available = await requireRedis("createTieredCache suite");
const keyPrefix = uniquePrefix("factory");
let bridge: UpstashBridge;

beforeAll(async () => {
  if (available) bridge = await startUpstashBridge(REDIS_TEST_URL);
});
afterAll(async () => {
  if (!available) return;
  await bridge.stop();
  await deleteByPrefix(keyPrefix);
});

const base: CacheConfig = {
  l1MaxEntries: 2,
  l1MaxBytes: 1_000_000,
  l1TtlSeconds: 60,
  l1IdleSeconds: 30,
  redis: null,
  redisTtlSeconds: 120,
  warmOnStartup: false,
  warmSize: 100,
};

test("L1 only, bounded as configured", async () => {
  const cache = await createTieredCache(base, { keyPrefix });
  for (const key of ["a", "b", "c"]) await cache.get(key, async () => key);
  const l1 = cache.stats().l1!;
  expect(l1).toMatchObject({ entries: 2, maxEntries: 2 });
  // The third key either pushed one out or was kept out by the admission filter.
  expect(l1.evictions + l1.rejected).toBe(1);
  expect(cache.stats().l2).toBeNull();
  await cache.close();
});

test("zero entries turns L1 off", async () => {
  const cache = await createTieredCache({ ...base, l1MaxEntries: 0 }, { keyPrefix });
  expect(cache.stats().l1).toBeNull();
  await cache.close();
});

describe.skipIf(!available)("with L2", () => {
  test.each(["tcp", "upstash"] as const)("%s driver", async (kind) => {
    const redis: CacheConfig["redis"] =
      kind === "tcp" ? { kind, url: REDIS_TEST_URL } : { kind, url: bridge.url, token: bridge.token };
    const writer = await createTieredCache({ ...base, redis }, { keyPrefix });
    expect(writer.stats().l2?.driver).toBe(kind === "tcp" ? "ioredis" : "upstash");
    await writer.set(`k-${kind}`, "v");
    const reader = await createTieredCache({ ...base, redis }, { keyPrefix });
    expect(await reader.get(`k-${kind}`, async () => "from loader")).toBe("v");
    expect(await writer.pingL2()).toBe(true);
    await writer.close();
    await reader.close();
  });
});
