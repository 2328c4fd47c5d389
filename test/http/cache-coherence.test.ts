/**
 * The tiered cache through the app, as a deployment runs it: two registry
 * instances (two createRegistry) on one fresh PostgreSQL database and the
 * machine's Redis, under a key prefix and a bus channel of this run's own.
 * A write on A is seen on B within a bounded time and never served as it was
 * by A; a storm of reads of one cold id makes one database query; killing
 * Redis (a redis-server of the test's own) in the middle of a run of
 * requests fails none of them.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import {
  type RegistryInstance as Instance,
  jsonSchema,
  startRegistryInstance as startInstance,
  until,
} from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import {
  deleteByPrefix,
  REDIS_TEST_URL,
  requireRedis,
  startThrowawayRedis,
  type ThrowawayRedis,
  uniquePrefix,
} from "../support/redis.ts";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge.ts";

const available = (await postgresAvailable()) && (await requireRedis("cache coherence through the app"));
const redisServer = Bun.which("redis-server");
if (available && redisServer === null) {
  if (process.env.CI === "true")
    throw new Error("cache chaos: redis-server is not installed (CI=true: fail)");
  console.warn("\n!! SKIPPING the Redis kill test through the app: redis-server is not installed.\n");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe.skipIf(!available)("two instances on one PostgreSQL and one Redis", () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  const keyPrefix = uniquePrefix("coherence");
  const channel = `cache_test_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { REDIS_URL: REDIS_TEST_URL, CACHE_WARM_ON_STARTUP: "false" };
    a = await startInstance(database.url, env, { keyPrefix, channel });
    b = await startInstance(database.url, env, { keyPrefix, channel });
  });
  afterAll(async () => {
    await a?.registry.close();
    await b?.registry.close();
    await database?.drop();
    await deleteByPrefix(keyPrefix);
  });

  async function registerOnA(subject: string, n: number): Promise<{ id: string; global_id: number }> {
    const res = await a.call("POST", "/api/v1/schemas", {
      subject,
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(n),
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  test("deprecate and delete on A: B sees each within the bound, A never serves what it replaced", async () => {
    const delays: number[] = [];
    for (let round = 0; round < 5; round++) {
      const subject = `coherence.Round${round}`;
      const { id, global_id } = await registerOnA(subject, round);
      const byId = `/api/v1/schemas/${id}`;
      const byGlobalId = `/api/v1/schemas/${global_id}`;
      const version = `/api/v1/subjects/${subject}/versions/1.0.0`;
      const latest = `/api/v1/subjects/${subject}/versions/latest`;
      // Every key cached on both instances (L1) and in Redis (L2).
      for (const instance of [a, b, a, b]) {
        for (const path of [byId, byGlobalId, version, latest]) {
          expect((await instance.call("GET", path)).status).toBe(200);
        }
      }

      const deprecated = await a.call("PATCH", `${byId}/state`, { state: "deprecated", reason: "test" });
      expect(deprecated.status).toBe(200);
      // The writer, at once, under every key.
      for (const path of [byId, byGlobalId, version, latest]) {
        expect((await a.call("GET", path)).body.state).toBe("deprecated");
      }
      delays.push(
        await until(
          () => b.call("GET", byId),
          (res) => res.body.state === "deprecated",
        ),
      );
      for (const path of [byGlobalId, version, latest]) {
        expect((await b.call("GET", path)).body.state).toBe("deprecated");
      }

      expect((await a.call("DELETE", byId)).status).toBe(204);
      for (const path of [byId, byGlobalId, version, latest]) {
        expect((await a.call("GET", path)).status).toBe(404);
      }
      delays.push(
        await until(
          () => b.call("GET", byId),
          (res) => res.status === 404,
        ),
      );
      for (const path of [byGlobalId, version, latest]) {
        expect((await b.call("GET", path)).status).toBe(404);
      }
      expect((await b.call("GET", `${byId}?include_deleted=true`)).body.deleted_at).not.toBeNull();

      expect((await a.call("DELETE", `${byId}?permanent=true`)).status).toBe(204);
      expect((await a.call("GET", `${byId}?include_deleted=true`)).status).toBe(404);
      delays.push(
        await until(
          () => b.call("GET", `${byId}?include_deleted=true`),
          (res) => res.status === 404,
        ),
      );
    }
    console.log(
      `cross-instance invalidation: median ${median(delays).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms over ${delays.length} writes`,
    );
    // The goal is under 100 ms after the commit; the bound is generous for a loaded CI machine.
    expect(median(delays)).toBeLessThan(100);
  });

  test("a register on A replaces B's negative entries: the new version and latest show on B", async () => {
    const subject = "coherence.Negative";
    const version = `/api/v1/subjects/${subject}/versions/1.0.0`;
    const latest = `/api/v1/subjects/${subject}/versions/latest`;
    // Cached as "does not exist" on B (and in L2).
    expect((await b.call("GET", version)).status).toBe(404);
    expect((await b.call("GET", latest)).status).toBe(404);
    const { id } = await registerOnA(subject, 100);
    expect((await a.call("GET", version)).body.id).toBe(id);
    await until(
      () => b.call("GET", version),
      (res) => res.status === 200,
    );
    await until(
      () => b.call("GET", latest),
      (res) => res.body?.id === id,
    );
  });

  test("100 concurrent reads of a missing id and of a cold id make one database query each", async () => {
    const missing = crypto.randomUUID();
    const before = await a.queries("getById");
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => a.call("GET", `/api/v1/schemas/${missing}`)),
    );
    expect(answers.every((res) => res.status === 404)).toBe(true);
    expect((await a.queries("getById")) - before).toBe(1);
    // The negative entry keeps later reads away from PostgreSQL.
    expect((await a.call("GET", `/api/v1/schemas/${missing}`)).status).toBe(404);
    expect((await a.queries("getById")) - before).toBe(1);

    // Registered on B: neither A's L1 nor L2 holds it by global_id yet.
    const created = await b.call("POST", "/api/v1/schemas", {
      subject: "coherence.Cold",
      schema_type: "json",
      content: jsonSchema(200),
    });
    expect(created.status).toBe(201);
    const coldBefore = await a.queries("getById");
    const cold = await Promise.all(
      Array.from({ length: 100 }, () => a.call("GET", `/api/v1/schemas/${created.body.global_id}`)),
    );
    expect(cold.every((res) => res.status === 200 && res.body.id === created.body.id)).toBe(true);
    expect((await a.queries("getById")) - coldBefore).toBe(1);
  });

  test("/health lists Redis as up and not critical", async () => {
    const { body } = await a.call("GET", "/health");
    expect(body.components.redis).toMatchObject({ status: "up", critical: false });
  });

  test("/stats reports both tiers with the breaker closed", async () => {
    const { body } = await a.call("GET", "/api/v1/stats");
    expect(Object.keys(body.cache.tiers).sort()).toEqual(["l1", "l2"]);
    expect(body.cache.tiers.l1.hits).toBeGreaterThan(0);
    expect(body.cache.tiers.l2.breaker).toBe("closed");
    expect(body.cache.hit_rate).toBeGreaterThan(0);
  });
});

describe.skipIf(!available || redisServer === null)("Redis killed in the middle of a run of requests", () => {
  let database: TestDatabase;
  let instance: Instance;
  let redis: ThrowawayRedis;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startThrowawayRedis();
    // L1 off: every read goes through L2, the tier that dies.
    instance = await startInstance(
      database.url,
      { REDIS_URL: redis.url, CACHE_L1_MAX_ENTRIES: "0", CACHE_WARM_ON_STARTUP: "false" },
      { extras: { l2Guard: { timeoutMs: 50, breaker: { failureThreshold: 3, cooldownMs: 200 } } } },
    );
  });
  afterAll(async () => {
    await instance?.registry.close();
    await redis?.kill();
    await database?.drop();
  });

  test("no request fails; the breaker opens and closes by itself", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await instance.call("POST", "/api/v1/schemas", {
        subject: `chaos.S${i}`,
        schema_type: "json",
        content: jsonSchema(i),
      });
      ids.push(res.body.id);
    }
    let requests = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async (w: number) => {
      for (let i = w; running; i++) {
        const id = ids[i % ids.length]!;
        const res = await instance.call("GET", `/api/v1/schemas/${id}`);
        requests++;
        if (res.status !== 200 || res.body.id !== id) failures.push(`${res.status} ${id}`);
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));

    await Bun.sleep(300);
    await redis.kill();
    await until(
      () => instance.call("GET", "/api/v1/stats"),
      (res) => res.body.cache.tiers.l2.breaker === "open",
    );
    await Bun.sleep(300);
    await redis.restart();
    await until(
      () => instance.call("GET", "/api/v1/stats"),
      (res) => res.body.cache.tiers.l2.breaker === "closed",
    );
    const hitsBack = (await instance.call("GET", "/api/v1/stats")).body.cache.tiers.l2.hits;
    await Bun.sleep(300);
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(200);
    const stats = (await instance.call("GET", "/api/v1/stats")).body.cache.tiers.l2;
    expect(stats.errors).toBeGreaterThan(0);
    // Serving from L2 again once it is back.
    expect(stats.hits).toBeGreaterThan(hitsBack);
  });
});

describe.skipIf(!available)("L2 over Upstash's REST API (a bridge onto the machine's Redis), L1 off", () => {
  let database: TestDatabase;
  let bridge: UpstashBridge;
  let a: Instance;
  let b: Instance;
  const keyPrefix = uniquePrefix("upstash");
  const channel = `cache_upstash_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    bridge = await startUpstashBridge(REDIS_TEST_URL);
    const env = {
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
      CACHE_L1_MAX_ENTRIES: "0",
      CACHE_WARM_ON_STARTUP: "false",
    };
    // HTTP round trips on a loaded test machine: a budget wider than the default 50 ms keeps L2 in play.
    const extras = { l2Guard: { timeoutMs: 1_000 } };
    a = await startInstance(database.url, env, { keyPrefix, channel, extras });
    b = await startInstance(database.url, env, { keyPrefix, channel, extras });
  });
  afterAll(async () => {
    await a?.registry.close();
    await b?.registry.close();
    await bridge?.stop();
    await database?.drop();
    await deleteByPrefix(keyPrefix);
  });

  test("B reads what A cached, and sees A's deprecation at once", async () => {
    const created = await a.call("POST", "/api/v1/schemas", {
      subject: "upstash.Prompt",
      schema_type: "json",
      content: jsonSchema(1),
    });
    const path = `/api/v1/schemas/${created.body.id}`;
    expect((await a.call("GET", path)).body.state).toBe("active");
    // A fills L2 in the background, and the register's own notification, arriving after the commit, drops
    // the L2 entry on every instance once more: read through A until Redis holds it.
    const redis = new Redis(REDIS_TEST_URL);
    try {
      const key = `${keyPrefix}:v1.j:schema:id:${created.body.id}`;
      await until(
        async () => {
          await a.call("GET", path);
          await Bun.sleep(20);
          return redis.exists(key);
        },
        (count) => count === 1,
        3_000,
      );
    } finally {
      redis.disconnect();
    }
    const before = await b.queries("getById");
    expect((await b.call("GET", path)).body.state).toBe("active");
    expect((await b.call("GET", "/api/v1/stats")).body.cache.tiers.l2.hits).toBe(1);
    expect(await b.queries("getById")).toBe(before);
    expect(bridge.requests.single + bridge.requests.pipeline).toBeGreaterThan(0);

    expect((await a.call("PATCH", `${path}/state`, { state: "deprecated" })).status).toBe(200);
    // No L1 anywhere: A's delete of the L2 entry is enough for B's next read.
    expect((await b.call("GET", path)).body.state).toBe("deprecated");
  });
});
