/**
 * The tiered cache against the machine's Redis: L1 → L2 → loader with tiers
 * filled on the way back, single flight, negative entries, invalidation that
 * beats in-flight loads, and degradation to the loader when L2 is slow,
 * failing or holding garbage.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import * as v from "valibot";
import { msgpackSerializer } from "../../bench/cache/msgpack-serializer.ts";
import { createRemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { TieredCache, type TieredCacheOptions } from "../../src/cache/tiered-cache.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";
import { type FaultyDriver, withFaults } from "./fault-injection.ts";

const available = await requireRedis("tiered cache suite");
const prefix = uniquePrefix("tiered");
let raw: Redis;
const opened: TieredCache[] = [];

beforeAll(() => {
  if (available) raw = new Redis(REDIS_TEST_URL);
});
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});
afterAll(async () => {
  if (!available) return;
  await deleteByPrefix(prefix);
  raw.disconnect();
});

async function driver(): Promise<FaultyDriver> {
  return withFaults(await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL }));
}

function cache(options: TieredCacheOptions = {}): TieredCache {
  const made = new TieredCache({ keyPrefix: prefix, ...options });
  opened.push(made);
  return made;
}

/** A loader over an in-memory table that counts its calls, like a primary-key select. */
function table<T>(rows: Record<string, T>, delayMs = 0) {
  const loader = (key: string) => async () => {
    loader.calls++;
    if (delayMs > 0) await Bun.sleep(delayMs);
    return rows[key] ?? null;
  };
  loader.calls = 0;
  return loader;
}

const schema = (n: number) => ({ id: `id-${n}`, globalId: n, content: { type: "object", title: `S${n}` } });

describe("L1 only", () => {
  test("the loader answers once; L1 answers after", async () => {
    const c = cache();
    const load = table({ a: schema(1) });
    expect(await c.get("a", load("a"))).toEqual(schema(1));
    expect(await c.get("a", load("a"))).toEqual(schema(1));
    expect(load.calls).toBe(1);
    expect(c.stats()).toMatchObject({ requests: 2, hitRate: 0.5, l2: null, loader: { calls: 1 } });
    expect(c.stats().l1).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  test("peek answers from L1 alone, synchronously, and counts only its hits", async () => {
    const c = cache();
    const load = table({ a: schema(1) });
    expect(c.peek("a")).toBeUndefined();
    await c.get("a", load("a"));
    await c.get("missing", load("missing"));
    expect(c.peek("a")).toEqual({ value: schema(1) });
    expect(c.peek("missing")).toEqual({ value: null });
    await c.delete(["a"]);
    expect(c.peek("a")).toBeUndefined();
    expect(load.calls).toBe(2);
    expect(c.stats().l1).toMatchObject({ hits: 2, misses: 2 });
  });

  test("100 concurrent misses of one key call the loader once", async () => {
    const c = cache();
    const load = table({ hot: schema(7) }, 20);
    const results = await Promise.all(Array.from({ length: 100 }, () => c.get("hot", load("hot"))));
    expect(load.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual(schema(7));
    expect(c.stats().loader).toMatchObject({ calls: 1, coalesced: 99 });
  });

  test("a loader error reaches every waiter and is not cached", async () => {
    const c = cache();
    let calls = 0;
    const failing = async () => {
      calls++;
      await Bun.sleep(5);
      throw new Error("database unavailable");
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => c.get("k", failing)));
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    expect(calls).toBe(1);
    expect(await c.get("k", async () => "recovered")).toBe("recovered");
    expect(c.stats().loader).toMatchObject({ calls: 2, errors: 1 });
  });

  test("missing ids are cached briefly as negative entries", async () => {
    const c = cache({ negativeTtlSeconds: { l1: 0.05, l2: 1 } });
    const load = table<ReturnType<typeof schema>>({});
    expect(await c.get("schema:id:nope", load("nope"))).toBeNull();
    expect(await c.get("schema:id:nope", load("nope"))).toBeNull();
    expect(load.calls).toBe(1);
    expect(c.stats().negativeHits).toBe(1);
    await Bun.sleep(70);
    expect(await c.get("schema:id:nope", load("nope"))).toBeNull();
    expect(load.calls).toBe(2);
  });

  test("a loader answering undefined counts as missing", async () => {
    const c = cache();
    expect(await c.get("u", async () => undefined)).toBeNull();
    expect(await c.get("u", async () => "never called")).toBeNull();
  });

  test("delete during a load keeps the loaded (old) value out of the cache", async () => {
    const c = cache();
    let version = 1;
    const load = async () => {
      const seen = version;
      await Bun.sleep(30);
      return { version: seen };
    };
    const before = c.get("k", load);
    await Bun.sleep(5);
    version = 2;
    await c.delete("k");
    expect(await before).toEqual({ version: 1 });
    // Not served from the stale flight, nor from a tier it filled.
    expect(await c.get("k", load)).toEqual({ version: 2 });
  });

  test("values that cannot be serialized are returned but not cached", async () => {
    const c = cache();
    let calls = 0;
    const load = async () => {
      calls++;
      return { n: 10n };
    };
    expect(await c.get("big", load)).toEqual({ n: 10n });
    expect(await c.get("big", load)).toEqual({ n: 10n });
    expect(calls).toBe(2);
    expect(c.stats().encodeErrors).toBe(2);
  });
});

describe.skipIf(!available)("L1 and L2", () => {
  test("a miss fills both tiers; a fresh instance reads L2, not the loader", async () => {
    const l2 = await driver();
    const a = cache({ l2 });
    const load = table({ a: schema(1) });
    await a.get("schema:id:a", load("a"));
    await a.flush();
    expect(await raw.get(`${a.namespace.prefix}schema:id:a`)).toBe(JSON.stringify({ d: schema(1) }));
    expect(await raw.ttl(`${a.namespace.prefix}schema:id:a`)).toBeGreaterThan(3_590);

    const b = cache({ l2: await driver() });
    expect(await b.get("schema:id:a", load("a"))).toEqual(schema(1));
    expect(await b.get("schema:id:a", load("a"))).toEqual(schema(1));
    expect(load.calls).toBe(1);
    expect(b.stats()).toMatchObject({ hitRate: 1, l1: { hits: 1, misses: 1 }, l2: { hits: 1, misses: 0 } });
  });

  test("100 concurrent misses make one L2 lookup and one loader call", async () => {
    const l2 = await driver();
    const c = cache({ l2 });
    const load = table({ hot: schema(3) }, 10);
    await Promise.all(Array.from({ length: 100 }, () => c.get("hot", load("hot"))));
    await c.flush();
    expect(load.calls).toBe(1);
    expect(l2.calls).toBe(2); // one GET, one SET
  });

  test("negative entries go to L2 with their own TTL", async () => {
    const c = cache({ l2: await driver() });
    expect(await c.get("schema:gid:999", async () => null)).toBeNull();
    await c.flush();
    const key = `${c.namespace.prefix}schema:gid:999`;
    expect(await raw.get(key)).toBe('{"n":1}');
    expect(await raw.ttl(key)).toBeLessThanOrEqual(60);
    const other = cache({ l2: await driver() });
    expect(await other.get("schema:gid:999", async () => schema(999))).toBeNull();
  });

  test("delete clears L1 and L2", async () => {
    const c = cache({ l2: await driver() });
    await c.get("k", async () => "old");
    await c.flush();
    await c.delete(["k"]);
    expect(await raw.exists(`${c.namespace.prefix}k`)).toBe(0);
    expect(await c.get("k", async () => "new")).toBe("new");
  });

  test("invalidate without a bus deletes on this instance and in L2", async () => {
    const c = cache({ l2: await driver() });
    await c.set("k", "old");
    await c.invalidate("k");
    expect(await raw.exists(`${c.namespace.prefix}k`)).toBe(0);
    expect(await c.get("k", async () => "new")).toBe("new");
  });

  test("garbage in L2 is a miss; the loader's answer replaces it", async () => {
    const c = cache({ l2: await driver() });
    const key = `${c.namespace.prefix}schema:id:bad`;
    await raw.set(key, "\u0000not an entry", "EX", 60);
    expect(await c.get("schema:id:bad", async () => "good")).toBe("good");
    await c.flush();
    expect(await raw.get(key)).toBe('{"d":"good"}');
    expect(c.stats().l2).toMatchObject({ decodeErrors: 1, hits: 0, misses: 1 });
  });

  test("a value from L2 failing the caller's schema is a miss", async () => {
    const c = cache({ l2: await driver() });
    const shape = v.object({ id: v.string(), globalId: v.number() });
    await raw.set(
      `${c.namespace.prefix}s`,
      JSON.stringify({ d: { id: "x", globalId: "not a number" } }),
      "EX",
      60,
    );
    expect(await c.get("s", async () => ({ id: "x", globalId: 1 }), { schema: shape })).toEqual({
      id: "x",
      globalId: 1,
    });
    expect(c.stats().l2?.decodeErrors).toBe(1);
  });

  test("entries of another prefix or serializer are never read", async () => {
    const json = cache({ l2: await driver() });
    await json.set("k", "from json");
    const packed = cache({ l2: await driver(), serializer: msgpackSerializer });
    expect(await packed.get("k", async () => "from loader")).toBe("from loader");
    const elsewhere = cache({ l2: await driver(), keyPrefix: `${prefix}-other` });
    expect(await elsewhere.get("k", async () => "from loader")).toBe("from loader");
    expect(await cache({ l2: await driver() }).get("k", async () => "unused")).toBe("from json");
  });

  test("with L1 off every read goes to L2", async () => {
    const l2 = await driver();
    const c = cache({ l1: false, l2 });
    const load = table({ a: schema(1) });
    for (let i = 0; i < 5; i++) expect(await c.get("a", load("a"))).toEqual(schema(1));
    expect(load.calls).toBe(1);
    expect(c.stats()).toMatchObject({ l1: null, l2: { hits: 4, misses: 1 } });
  });

  test("setMany writes L2 in one pipelined call; peekMany reads it back in one", async () => {
    const l2 = await driver();
    const writer = cache({ l2 });
    await writer.setMany(
      Array.from({ length: 100 }, (_, i) => ({ key: `w${i}`, value: i === 0 ? null : schema(i) })),
    );
    expect(l2.calls).toBe(1);
    const readerDriver = await driver();
    const reader = cache({ l2: readerDriver });
    const keys = [...Array.from({ length: 100 }, (_, i) => `w${i}`), "absent"];
    const found = await reader.peekMany<ReturnType<typeof schema>>(keys);
    expect(readerDriver.calls).toBe(1);
    expect(found.size).toBe(100);
    expect(found.get("w0")).toBeNull();
    expect(found.get("w5")).toEqual(schema(5));
    expect(found.has("absent")).toBe(false);
    // peekMany filled L1: no further L2 call.
    expect(await reader.get<unknown>("w5", async () => null)).toEqual(schema(5));
    expect(readerDriver.calls).toBe(1);
  });
});

describe.skipIf(!available)("degradation", () => {
  test("a slow L2 costs one budget, then the loader answers", async () => {
    const l2 = await driver();
    l2.faults.delayMs = 300;
    const c = cache({ l2, l2Guard: { timeoutMs: 30 } });
    const started = performance.now();
    expect(await c.get("slow", async () => "from loader")).toBe("from loader");
    expect(performance.now() - started).toBeLessThan(150);
    expect(c.stats().l2).toMatchObject({ timeouts: 1, errors: 1 });
  });

  test("a failing L2 never fails a get; the breaker opens, skips L2 and is counted", async () => {
    const l2 = await driver();
    l2.faults.fail = true;
    const c = cache({ l1: false, l2, l2Guard: { breaker: { failureThreshold: 3, cooldownMs: 60_000 } } });
    for (let i = 0; i < 20; i++) expect(await c.get(`k${i}`, async () => i)).toBe(i);
    await c.flush();
    const stats = c.stats().l2!;
    expect(stats.breaker).toMatchObject({ state: "open", trips: 1 });
    expect(stats.skipped).toBeGreaterThan(0);
    // Three failures opened it; afterwards nothing reached Redis.
    expect(l2.calls).toBe(3);
  });

  test("after the cool-down one probe closes the breaker when L2 is back", async () => {
    const l2 = await driver();
    l2.faults.fail = true;
    const c = cache({ l1: false, l2, l2Guard: { breaker: { failureThreshold: 2, cooldownMs: 50 } } });
    await c.get("a", async () => 1);
    await c.get("b", async () => 2);
    expect(c.stats().l2?.breaker.state).toBe("open");
    l2.faults.fail = false;
    await Bun.sleep(60);
    await c.get("c", async () => 3);
    expect(c.stats().l2?.breaker.state).toBe("closed");
  });

  test("a delete L2 missed is replayed before L2 is read again", async () => {
    const l2 = await driver();
    const c = cache({ l1: false, l2, l2Guard: { breaker: { failureThreshold: 1, cooldownMs: 30 } } });
    await c.set("k", "old");
    l2.faults.fail = true;
    await c.delete("k");
    expect(c.stats().l2?.pendingDeletes).toBe(1);
    l2.faults.fail = false;
    await Bun.sleep(40);
    expect(await c.get("k", async () => "new")).toBe("new");
    expect(c.stats().l2?.pendingDeletes).toBe(0);
  });
});
