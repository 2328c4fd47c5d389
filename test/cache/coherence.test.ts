/**
 * Two (and more) tiered caches on one PostgreSQL and one Redis, coupled by the
 * invalidation bus, reading a real table: a write on A is seen by A at once
 * after its commit and by B within 100 ms; a rolled-back write changes
 * nothing; a load that raced the write cannot leave the old value in L2.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createInvalidationBus, type InvalidationBus } from "../../src/cache/bus/invalidation-bus.ts";
import { createRemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { TieredCache, type TieredCacheOptions } from "../../src/cache/tiered-cache.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";

const available = (await postgresAvailable()) && (await requireRedis("cache coherence suite"));
const keyPrefix = uniquePrefix("coherence");

interface Instance {
  sql: postgres.Sql;
  bus: InvalidationBus;
  cache: TieredCache;
  read(id: string): Promise<string | null>;
}

describe.skipIf(!available)("coherence across instances", () => {
  let db: TestDatabase;
  let admin: postgres.Sql;
  const instances: Instance[] = [];

  async function instance(name: string, options: TieredCacheOptions = {}): Promise<Instance> {
    const sql = postgres(db.url, { max: 3, idle_timeout: 5, connect_timeout: 3, onnotice: () => {} });
    // A running instance has its pool open; a first connection costs tens of ms and is not coherence lag.
    await sql`select 1`;
    const bus = await createInvalidationBus(sql, { channel: "coherence", instanceId: name });
    const l2 = await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL });
    const cache = new TieredCache({ keyPrefix, l2, bus, ...options });
    const made: Instance = {
      sql,
      bus,
      cache,
      read: (id) =>
        cache.get(`item:${id}`, async () => {
          const rows = await sql<{ body: string }[]>`select body from items where id = ${id}`;
          return rows[0]?.body ?? null;
        }),
    };
    instances.push(made);
    return made;
  }

  /** Polls `read` until it answers `expected`; returns how long that took. */
  async function until(read: () => Promise<string | null>, expected: string | null, timeoutMs = 1_000) {
    const started = performance.now();
    while (performance.now() - started < timeoutMs) {
      if ((await read()) === expected) return performance.now() - started;
      await Bun.sleep(1);
    }
    throw new Error(`did not read ${expected} within ${timeoutMs} ms`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = postgres(db.url, { max: 1, onnotice: () => {} });
    await admin`create table items (id text primary key, body text not null)`;
  });

  afterEach(async () => {
    for (const { cache, bus, sql } of instances.splice(0)) {
      await cache.close();
      await bus.close();
      await sql.end({ timeout: 1 });
    }
  });

  afterAll(async () => {
    await admin?.end({ timeout: 1 });
    await db?.drop();
    await deleteByPrefix(keyPrefix);
  });

  test("a change on A: A reads it right after its commit, B within 100 ms", async () => {
    await admin`insert into items values ('1', 'v1')`;
    const a = await instance("A");
    const b = await instance("B");
    expect(await a.read("1")).toBe("v1");
    expect(await b.read("1")).toBe("v1");
    expect(b.cache.stats().l2?.hits).toBe(1);

    await a.sql.begin(async (tx) => {
      await tx`update items set body = 'v2' where id = '1'`;
      await a.cache.invalidate("item:1", tx);
    });
    // No wait: the commit's own instance never serves what it changed.
    expect(await a.read("1")).toBe("v2");
    const lag = await until(() => b.read("1"), "v2");
    console.log(`B saw A's change ${lag.toFixed(2)} ms after the commit (indicative)`);
    expect(lag).toBeLessThan(100);
  });

  test("a delete on A turns into 'does not exist' on B", async () => {
    await admin`insert into items values ('2', 'doomed')`;
    const a = await instance("A");
    const b = await instance("B");
    expect(await b.read("2")).toBe("doomed");
    await a.sql.begin(async (tx) => {
      await tx`delete from items where id = '2'`;
      await a.cache.invalidate("item:2", tx);
    });
    expect(await a.read("2")).toBeNull();
    expect(await until(() => b.read("2"), null)).toBeLessThan(100);
  });

  test("a write that rolls back changes nothing anywhere", async () => {
    await admin`insert into items values ('3', 'kept')`;
    const a = await instance("A", { fenceTimeoutMs: 100 });
    const b = await instance("B");
    expect(await b.read("3")).toBe("kept");
    await expect(
      a.sql.begin(async (tx) => {
        await tx`update items set body = 'never' where id = '3'`;
        await a.cache.invalidate("item:3", tx);
        throw new Error("validation failed");
      }),
    ).rejects.toThrow("validation failed");
    await Bun.sleep(50);
    expect(await a.read("3")).toBe("kept");
    expect(await b.read("3")).toBe("kept");
    expect(b.bus.stats().received).toBe(0);
    // The fence of the rolled-back write lifts by itself: A caches again.
    await Bun.sleep(120);
    const loads = a.cache.stats().loader.calls;
    await a.read("3");
    await a.read("3");
    expect(a.cache.stats().loader.calls - loads).toBeLessThanOrEqual(1);
  });

  test("a load racing the write cannot leave the old value in L2", async () => {
    await admin`insert into items values ('4', 'old')`;
    const a = await instance("A");
    const racer = await instance("C", { l1: false });
    await a.sql.begin(async (tx) => {
      await tx`update items set body = 'new' where id = '4'`;
      await a.cache.invalidate("item:4", tx);
      // Another instance reads before the commit: PostgreSQL still answers 'old', and it goes to L2.
      expect(await racer.read("4")).toBe("old");
      await racer.cache.flush();
      // A, fenced, neither serves nor stores anything for the key until its commit is echoed.
      expect(await a.read("4")).toBe("old");
    });
    expect(await a.read("4")).toBe("new");
    // Every instance drops L2 on the commit's notification; a newcomer reads the new value.
    await Bun.sleep(30);
    const late = await instance("D");
    expect(await late.read("4")).toBe("new");
  });

  test("onDropped hears a key once it is gone on A (the echo) and on B, and a load then refills both", async () => {
    await admin`insert into items values ('9', 'old')`;
    const a = await instance("A");
    const b = await instance("B");
    const heard: string[] = [];
    for (const [name, node] of [
      ["A", a],
      ["B", b],
    ] as const) {
      // What the registry's refresh-ahead does: read the dropped key again through the cache.
      node.cache.onDropped((keys) => {
        heard.push(`${name} ${keys.join(",")}`);
        node.read("9").catch(() => {});
      });
    }
    expect(await a.read("9")).toBe("old");
    expect(await b.read("9")).toBe("old");
    await admin`update items set body = 'new' where id = '9'`;
    await a.cache.invalidate("item:9");
    // Not at the local drop: the echo would drop again what a load stored in between.
    expect(heard).toEqual([]);
    await until(async () => (heard.length === 2 ? "both" : null), "both");
    expect(heard.sort()).toEqual(["A item:9", "B item:9"]);
    for (const node of [a, b]) {
      await until(async () => node.cache.peek<string>("item:9")?.value ?? null, "new");
    }
  });
});
