/** L1: the entry, byte and single-entry bounds, absolute and idle expiry, and what is counted. */
import { describe, expect, test } from "bun:test";
import { MemoryCache } from "../../src/cache/l1/memory-cache.ts";

describe("L1 memory cache", () => {
  test("defaults: 10,000 entries, one-hour TTL, idle expiry at half of it", () => {
    const cache = new MemoryCache();
    expect(cache.options.maxEntries).toBe(10_000);
    expect(cache.options.ttlMs).toBe(3_600_000);
    expect(cache.options.idleMs).toBe(1_800_000);
    expect(new MemoryCache({ ttlMs: 60_000 }).options.idleMs).toBe(30_000);
  });

  test("holds values and negative entries apart from absent keys", () => {
    const cache = new MemoryCache();
    cache.set("a", { x: 1 }, 10);
    cache.set("gone", null, 4);
    expect(cache.get("a")?.value).toEqual({ x: 1 });
    expect(cache.get("gone")).toEqual(expect.objectContaining({ value: null }));
    expect(cache.get("absent")).toBeUndefined();
  });

  test("the entry bound evicts the least recently used and counts it (plain LRU admission)", () => {
    const cache = new MemoryCache({ maxEntries: 3, admission: "lru" });
    for (const key of ["a", "b", "c"]) cache.set(key, key, 1);
    cache.get("a");
    cache.set("d", "d", 1);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.value).toBe("a");
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });

  test("the byte bound keeps many small entries when a large one arrives", () => {
    const cache = new MemoryCache({ maxEntries: 10_000, maxBytes: 100_000, maxEntryBytes: 10_000 });
    for (let i = 0; i < 2_000; i++) cache.set(`small${i}`, i, 50);
    expect(cache.stats().bytes).toBe(100_000);
    // Larger than the single-entry cap: refused, and no small entry pays for it.
    expect(cache.set("huge", "x", 5_000_000)).toBe(false);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 2_000, evictions: 0, oversized: 1 });
    // Within the cap: pushes out only as many bytes as it needs.
    cache.set("large", "y", 10_000);
    expect(cache.stats()).toMatchObject({ entries: 2_000 - 200 + 1, evictions: 200, bytes: 100_000 });
    expect(cache.get("small0")).toBeUndefined();
    expect(cache.get("small200")?.value).toBe(200);
  });

  test("an oversized value replacing a cached one drops the old value", () => {
    const cache = new MemoryCache({ maxEntryBytes: 100 });
    cache.set("k", "old", 10);
    expect(cache.set("k", "new but big", 1_000)).toBe(false);
    expect(cache.get("k")).toBeUndefined();
  });

  test("absolute expiry holds however often the entry is read", async () => {
    const cache = new MemoryCache({ ttlMs: 120, idleMs: 80 });
    cache.set("hot", 1, 1);
    const until = performance.now() + 200;
    let lastSeen = 0;
    while (performance.now() < until) {
      if (cache.get("hot") !== undefined) lastSeen = performance.now();
      await Bun.sleep(10);
    }
    expect(cache.get("hot")).toBeUndefined();
    expect(lastSeen).toBeGreaterThan(0);
    expect(until - lastSeen).toBeGreaterThan(50);
    expect(cache.stats().expirations).toBe(1);
  });

  test("idle expiry drops an entry nobody read", async () => {
    const cache = new MemoryCache({ ttlMs: 10_000, idleMs: 60 });
    cache.set("read", 1, 1);
    cache.set("idle", 2, 1);
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(20);
      cache.get("read");
    }
    expect(cache.get("read")?.value).toBe(1);
    expect(cache.get("idle")).toBeUndefined();
  });

  test("a shorter per-entry TTL (negative entries) applies", async () => {
    const cache = new MemoryCache({ ttlMs: 10_000 });
    cache.set("missing", null, 1, 40);
    cache.set("present", 1, 1);
    await Bun.sleep(60);
    expect(cache.get("missing")).toBeUndefined();
    expect(cache.get("present")?.value).toBe(1);
  });

  test("TinyLFU: a one-off read does not push out what is read often", () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    for (const key of ["a", "b", "c"]) {
      cache.get(key);
      cache.set(key, key, 1);
    }
    for (let i = 0; i < 5; i++) for (const key of ["a", "b", "c"]) cache.get(key);
    // A cold key, read once (its miss), then offered to a full L1.
    cache.get("cold");
    expect(cache.set("cold", "x", 1)).toBe(false);
    expect(cache.get("cold")).toBeUndefined();
    for (const key of ["a", "b", "c"]) expect(cache.get(key)?.value).toBe(key);
    expect(cache.stats()).toMatchObject({ entries: 3, rejected: 1, evictions: 0 });
  });

  test("TinyLFU: a key read more often than the least recently used one gets in", () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    for (const key of ["a", "b", "c"]) {
      cache.get(key);
      cache.set(key, key, 1);
    }
    cache.get("b");
    cache.get("c");
    for (let i = 0; i < 4; i++) cache.get("rising");
    expect(cache.set("rising", "r", 1)).toBe(true);
    expect(cache.get("rising")?.value).toBe("r");
    // "a" was the least recently used: it made room.
    expect(cache.get("a")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1, rejected: 0 });
  });

  test("TinyLFU guards the byte bound too: a cold large value does not push out hot small ones", () => {
    const cache = new MemoryCache({ maxEntries: 100, maxBytes: 30 });
    for (const key of ["a", "b", "c"]) {
      cache.get(key);
      cache.set(key, key, 10);
    }
    for (let i = 0; i < 5; i++) for (const key of ["a", "b", "c"]) cache.get(key);
    // Far from the entry bound, but it would need two of the hot entries' bytes.
    cache.get("large");
    expect(cache.set("large", "L", 20)).toBe(false);
    for (const key of ["a", "b", "c"]) expect(cache.get(key)?.value).toBe(key);
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 30, rejected: 1, evictions: 0 });
  });

  test("TinyLFU under the byte bound: a value read more often than every entry it displaces gets in", () => {
    const cache = new MemoryCache({ maxEntries: 100, maxBytes: 30 });
    for (const key of ["a", "b", "c"]) {
      cache.get(key);
      cache.set(key, key, 10);
    }
    cache.get("c");
    cache.get("c");
    for (let i = 0; i < 4; i++) cache.get("large");
    expect(cache.set("large", "L", 20)).toBe(true);
    // "a" and "b", the least recently used, made room; "c" stays.
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("c")?.value).toBe("c");
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 30, evictions: 2 });
  });

  test("TinyLFU: a key already held is always replaced", () => {
    const cache = new MemoryCache({ maxEntries: 2 });
    cache.set("a", 1, 1);
    cache.set("b", 1, 1);
    expect(cache.set("a", 2, 1)).toBe(true);
    expect(cache.get("a")?.value).toBe(2);
  });

  test("refuses bounds that are not positive integers", () => {
    expect(() => new MemoryCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new MemoryCache({ maxBytes: 1.5 })).toThrow(RangeError);
  });
});
