/**
 * Rate limiting: the token bucket's arithmetic and the client address rules
 * on their own; the buckets in Redis through both L2 drivers (ioredis and
 * Upstash, over the bridge onto the real Redis); and through the registry on
 * PostgreSQL: 429 with Retry-After and RateLimit headers in both APIs' bodies,
 * separate read and write buckets, per-caller buckets, the in-process store
 * without Redis, one bucket shared by two instances through Redis, and a
 * Redis that dies: requests keep being answered (limited in process), counted
 * in /metrics, and the shared buckets come back with Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { GuardedRemote } from "../../src/cache/l2/guarded-remote.ts";
import { createRemoteCacheDriver, type RemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { RedisTokenBuckets } from "../../src/cache/rate-limit/redis-buckets.ts";
import { LocalTokenBuckets, takeToken } from "../../src/cache/rate-limit/token-bucket.ts";
import { clientAddressOf } from "../../src/http/rate-limit.ts";
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

const postgresUp = await postgresAvailable();
const redisUp = await requireRedis("rate limiting in Redis");

describe("the token bucket", () => {
  test("a full bucket lets `burst` requests through, then refuses until a token refills", () => {
    let now = 1_000_000;
    const buckets = new LocalTokenBuckets({ now: () => now });
    const limit = { perSecond: 2, burst: 3 };
    const taken = [1, 2, 3, 4].map(() => buckets.take("k", limit));
    expect(taken.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(taken.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    // 2 tokens a second: the next one in 500 ms; full again in 1.5 s.
    expect(taken[3]!.retryAfterMs).toBe(500);
    expect(taken[3]!.resetMs).toBe(1500);
    now += 499;
    expect(buckets.take("k", limit).allowed).toBe(false);
    now += 1;
    expect(buckets.take("k", limit).allowed).toBe(true);
    // Other keys have buckets of their own; a long quiet spell refills to the burst, no further.
    expect(buckets.take("other", limit).remaining).toBe(2);
    now += 3_600_000;
    expect(buckets.take("k", limit).remaining).toBe(2);
  });

  test("the arithmetic: refill by the time elapsed, never above the burst, never backwards", () => {
    const limit = { perSecond: 10, burst: 5 };
    const first = takeToken(undefined, limit, 0);
    expect(first.bucket.tokens).toBe(4);
    const later = takeToken({ tokens: 0.5, at: 1000 }, limit, 1050);
    expect(later.decision.allowed).toBe(true);
    expect(later.bucket.tokens).toBeCloseTo(0);
    // A clock that goes back refills nothing.
    const back = takeToken({ tokens: 0, at: 1000 }, limit, 900);
    expect(back.decision).toMatchObject({ allowed: false, retryAfterMs: 100 });
  });

  test("the in-process store stays bounded under a flood of distinct callers", () => {
    const buckets = new LocalTokenBuckets({ maxBuckets: 100 });
    for (let i = 0; i < 10_000; i++) buckets.take(`ip:${i}`, { perSecond: 1, burst: 1 });
    expect(buckets.size).toBe(100);
  });
});

describe("the client address", () => {
  const headers = (xff?: string) => new Headers(xff ? { "X-Forwarded-For": xff } : {});

  test("the connection's address, X-Forwarded-For ignored unless TRUST_PROXY says", () => {
    expect(clientAddressOf(headers("6.6.6.6"), { clientAddress: "10.0.0.7" }, 0)).toBe("10.0.0.7");
    expect(clientAddressOf(headers(), undefined, 0)).toBe("unknown");
  });

  test("behind N proxies, the N-th address from the right (what the first trusted proxy saw)", () => {
    const env = { clientAddress: "10.0.0.1" };
    expect(clientAddressOf(headers("6.6.6.6, 203.0.113.9"), env, 1)).toBe("203.0.113.9");
    expect(clientAddressOf(headers("6.6.6.6, 203.0.113.9, 10.0.0.2"), env, 2)).toBe("203.0.113.9");
    expect(clientAddressOf(headers("203.0.113.9"), env, 2)).toBe("203.0.113.9");
    expect(clientAddressOf(headers(), env, 1)).toBe("10.0.0.1");
  });
});

describe.skipIf(!redisUp)("buckets in Redis, through both L2 drivers", () => {
  let bridge: UpstashBridge;
  const prefix = uniquePrefix("ratelimit");
  const drivers: { name: string; driver: RemoteCacheDriver }[] = [];

  beforeAll(async () => {
    bridge = await startUpstashBridge(REDIS_TEST_URL);
    drivers.push({
      name: "ioredis",
      driver: await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_TEST_URL }),
    });
    drivers.push({
      name: "upstash",
      driver: await createRemoteCacheDriver({ kind: "upstash", url: bridge.url, token: bridge.token }),
    });
  });

  afterAll(async () => {
    for (const { driver } of drivers) await driver.close();
    await bridge?.stop();
    await deleteByPrefix(prefix);
  });

  for (const name of ["ioredis", "upstash"]) {
    test(`${name}: the script takes tokens atomically, and a second store on the same key shares the bucket`, async () => {
      const { driver } = drivers.find((d) => d.name === name)!;
      const keyOf = (bucket: string) => `${prefix}:${name}:${bucket}`;
      const one = new RedisTokenBuckets({ remote: new GuardedRemote(driver), keyOf });
      const two = new RedisTokenBuckets({ remote: new GuardedRemote(driver), keyOf });
      const limit = { perSecond: 1, burst: 4 };
      // Concurrent takes from two stores: exactly the burst gets through.
      const decisions = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).take("shared", limit)),
      );
      expect(decisions.filter((d) => d.allowed).length).toBe(4);
      const refused = decisions.find((d) => !d.allowed)!;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(one.failures + two.failures).toBe(0);
      // The bucket expires once it would be full again.
      const ttl = await drivers[0]!.driver.evalScript!(
        "return redis.call('PTTL', KEYS[1])",
        [keyOf("shared")],
        [],
      );
      expect(Number(ttl)).toBeGreaterThan(0);
      expect(Number(ttl)).toBeLessThanOrEqual(5_000);
    });
  }
});

async function startInstance(
  databaseUrl: string,
  env: Record<string, string>,
  keyPrefix?: string,
): Promise<Registry> {
  const config = await loadConfig({
    env: {
      LOG_LEVEL: "silent",
      DATABASE_URL: databaseUrl,
      DATABASE_MAX_CONNECTIONS: "5",
      CACHE_WARM_ON_STARTUP: "false",
      AUTH_REQUIRED: "false",
      ...env,
    },
  });
  return createRegistry(config, keyPrefix ? { cache: { keyPrefix } } : {});
}

/** A request as a server hands it to the app: the runtime adapter's client address beside it. */
async function call(
  registry: Registry,
  method: string,
  path: string,
  options: { body?: unknown; address?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] ??= "application/json";
  const request = new Request(`http://registry.test${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const response = await registry.fetch(request, { clientAddress: options.address ?? "192.0.2.1" });
  const text = await response.text();
  const json = /json/.test(response.headers.get("Content-Type") ?? "") && text.length > 0;
  return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text };
}

async function metric(registry: Registry, line: string): Promise<number> {
  const found = (await registry.metrics.expose()).split("\n").find((l) => l.startsWith(line));
  return found ? Number(found.split(" ").at(-1)) : Number.NaN;
}

describe.skipIf(!postgresUp)("rate limits through the registry, in process (no Redis)", () => {
  let database: TestDatabase;
  let registry: Registry;

  beforeAll(async () => {
    database = await createTestDatabase();
    registry = await startInstance(database.url, {
      RATE_LIMIT_PER_SECOND: "1",
      RATE_LIMIT_BURST: "3",
      RATE_LIMIT_WRITE_PER_SECOND: "1",
      RATE_LIMIT_WRITE_BURST: "2",
      TRUST_PROXY: "1",
    });
  });

  afterAll(async () => {
    await registry?.close();
    await database?.drop();
  });

  test("past the burst: 429 rate_limited with Retry-After and RateLimit headers; the others' buckets are their own", async () => {
    const address = "198.51.100.1";
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call(registry, "GET", "/api/v1/subjects", { address }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[0]!.headers.get("RateLimit-Limit")).toBe("3");
    expect(answers[0]!.headers.get("RateLimit-Remaining")).toBe("2");
    const refused = answers[3]!;
    expect(Number(refused.headers.get("Retry-After"))).toBe(1);
    expect(refused.headers.get("RateLimit-Remaining")).toBe("0");
    expect(refused.body.error).toMatchObject({
      code: "rate_limited",
      details: { class: "read", limit_per_second: 1, burst: 3, retry_after_seconds: 1 },
    });
    expect(refused.body.error.request_id).toBeString();

    // Another client address: a bucket of its own.
    expect((await call(registry, "GET", "/api/v1/subjects", { address: "198.51.100.2" })).status).toBe(200);
    // Probes and scrapes are never limited.
    for (let i = 0; i < 5; i++) {
      expect((await call(registry, "GET", "/health/live", { address })).status).toBe(200);
    }
    expect((await call(registry, "GET", "/metrics", { address })).status).toBe(200);
    expect(await metric(registry, 'schema_registry_rate_limited_total{api="native",class="read"}')).toBe(1);
  });

  test("the Confluent API answers 429 with error_code 42901", async () => {
    const address = "198.51.100.3";
    let last = await call(registry, "GET", "/subjects", { address });
    for (let i = 0; i < 3; i++) last = await call(registry, "GET", "/subjects", { address });
    expect(last.status).toBe(429);
    expect(last.body).toEqual({ error_code: 42901, message: expect.stringContaining("rate limit exceeded") });
    expect(last.headers.get("Content-Type")).toContain("application/vnd.schemaregistry.v1+json");
    expect(Number(last.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await metric(registry, 'schema_registry_rate_limited_total{api="confluent",class="read"}')).toBe(
      1,
    );
  });

  test("writes draw on a bucket of their own, with their own limit", async () => {
    const address = "198.51.100.4";
    // Settings writes: quick enough that no token refills between them.
    const put = (n: number) =>
      call(registry, "PUT", `/api/v1/subjects/ratelimit.writes.S${n}/config`, {
        address,
        body: { compatibility: "FULL" },
      });
    expect([(await put(1)).status, (await put(2)).status]).toEqual([200, 200]);
    const refused = await put(3);
    expect(refused.status).toBe(429);
    expect(refused.body.error.details.class).toBe("write");
    // A refused write changed nothing.
    const config = await call(registry, "GET", "/api/v1/subjects/ratelimit.writes.S3/config", {
      address: "x",
    });
    expect(config.status).toBe(404);
    // Reads of the same caller still have their tokens.
    expect((await call(registry, "GET", "/api/v1/subjects", { address })).status).toBe(200);
  });

  test("behind a trusted proxy the caller is the address it forwarded", async () => {
    const through = (client: string) =>
      call(registry, "GET", "/api/v1/config", {
        address: "10.0.0.1",
        headers: { "X-Forwarded-For": client },
      });
    for (let i = 0; i < 3; i++) expect((await through("203.0.113.50")).status).toBe(200);
    expect((await through("203.0.113.50")).status).toBe(429);
    // Same proxy, another client: not limited.
    expect((await through("203.0.113.51")).status).toBe(200);
  });
});

describe.skipIf(!postgresUp || !redisUp)("rate limits in Redis, shared by instances", () => {
  let database: TestDatabase;
  let one: Registry;
  let two: Registry;
  const prefix = uniquePrefix("ratelimit-shared");

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { REDIS_URL: REDIS_TEST_URL, RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "4" };
    one = await startInstance(database.url, env, prefix);
    two = await startInstance(database.url, env, prefix);
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.drop();
    await deleteByPrefix(prefix);
  });

  test("a caller's bucket is one across instances: what it spends on one, the other refuses", async () => {
    const address = "198.51.100.10";
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await call(i % 2 === 0 ? one : two, "GET", "/api/v1/subjects", { address })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect((await call(one, "GET", "/api/v1/subjects", { address })).status).toBe(429);
    expect((await call(two, "GET", "/subjects", { address })).status).toBe(429);
    expect(await metric(one, "schema_registry_rate_limit_store_failures_total")).toBe(0);
  });
});

describe.skipIf(!postgresUp || !redisUp)("a Redis outage does not take the registry down", () => {
  let database: TestDatabase;
  let redis: ThrowawayRedis;
  let registry: Registry;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startThrowawayRedis();
    registry = await startInstance(database.url, {
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_SECOND: "1",
      RATE_LIMIT_BURST: "3",
    });
  });

  afterAll(async () => {
    await registry?.close();
    await redis?.kill();
    await database?.drop();
  });

  test("Redis dead: answered, limited by the instance's own bucket, counted; Redis back: shared again", async () => {
    expect((await call(registry, "GET", "/api/v1/subjects", { address: "198.51.100.20" })).status).toBe(200);
    await redis.kill();

    const address = "198.51.100.21";
    const started = performance.now();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call(registry, "GET", "/api/v1/subjects", { address })).status);
    // Fail open: no 5xx, no wait on the dead server beyond the cache's budget; the burst still holds per instance.
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await metric(registry, "schema_registry_rate_limit_store_failures_total")).toBeGreaterThanOrEqual(
      4,
    );

    await redis.restart();
    const back = "198.51.100.22";
    // The breaker lets a probe through after its cool-down; from then on the buckets are Redis's again.
    const deadline = Date.now() + 15_000;
    let inRedis = false;
    while (!inRedis && Date.now() < deadline) {
      const failures = await metric(registry, "schema_registry_rate_limit_store_failures_total");
      await call(registry, "GET", "/api/v1/config", { address: back });
      inRedis = (await metric(registry, "schema_registry_rate_limit_store_failures_total")) === failures;
      if (!inRedis) await Bun.sleep(500);
    }
    expect(inRedis).toBe(true);
  }, 30_000);
});

describe.skipIf(!postgresUp)("rate limits per API key", () => {
  const BOOTSTRAP = "ratelimit-test-bootstrap-key-0123456789ab";
  let database: TestDatabase;
  let registry: Registry;

  beforeAll(async () => {
    database = await createTestDatabase();
    registry = await startInstance(database.url, {
      AUTH_REQUIRED: "true",
      AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP,
      RATE_LIMIT_PER_SECOND: "1",
      RATE_LIMIT_BURST: "2",
      RATE_LIMIT_WRITE_PER_SECOND: "100",
    });
  });

  afterAll(async () => {
    await registry?.close();
    await database?.drop();
  });

  test("each key has its own bucket, whatever address it calls from; a refused caller is told before its key is", async () => {
    const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
    // The bootstrap key serves until the first key exists: that one is an admin, which makes the next.
    const create = async (by: string, role: string) =>
      (await call(registry, "POST", "/api/v1/keys", { body: { role }, headers: bearer(by) })).body;
    const one = await create(BOOTSTRAP, "admin");
    const two = await create(one.key, "reader");
    const address = "198.51.100.30";
    const read = (key: string) =>
      call(registry, "GET", "/api/v1/subjects", { address, headers: bearer(key) });
    expect([
      (await read(one.key)).status,
      (await read(one.key)).status,
      (await read(one.key)).status,
    ]).toEqual([200, 200, 429]);
    // Same address, another key: a full bucket.
    expect((await read(two.key)).status).toBe(200);
    // Unknown credentials are refused by authentication (401), which runs first.
    expect((await read("srk_0000000000000000.nope")).status).toBe(401);
  });
});
