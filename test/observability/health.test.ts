/**
 * /health, /health/ready and /health/live against real components: the
 * machine's PostgreSQL, a throwaway redis-server that the test kills, and
 * s3rver. A non-critical component down makes the instance degraded (200),
 * PostgreSQL down makes it down and unready (503); components that are not
 * configured are listed as such.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRemoteCacheDriver, type RemoteCacheDriver } from "../../src/cache/index.ts";
import type { HealthProbe } from "../../src/observability/health.ts";
import { startTestRegistry, type TestRegistry } from "../support/app.ts";
import { postgresAvailable } from "../support/database.ts";
import { requireRedis, startThrowawayRedis, type ThrowawayRedis } from "../support/redis.ts";
import { startS3, type TestS3 } from "../support/s3.ts";

const available = await postgresAvailable();
const redisUp = available && (await requireRedis("health of the Redis component"));

describe.skipIf(!available)("health of a registry on PostgreSQL alone", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({ database: "postgres" });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("/health lists every component, the ones not configured as such", async () => {
    const res = await api.get("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
    expect(res.body.status).toBe("up");
    const { postgres, redis, object_store } = res.body.components;
    expect(postgres.status).toBe("up");
    expect(postgres.critical).toBe(true);
    expect(postgres.latency_ms).toBeGreaterThan(0);
    expect(postgres.latency_ms).toBeLessThan(2000);
    expect(redis).toEqual({ status: "not_configured", critical: false, latency_ms: null });
    expect(object_store).toEqual({ status: "not_configured", critical: false, latency_ms: null });
    expect(res.body.uptime_seconds).toBeGreaterThan(0);
    expect(res.body.runtime).toStartWith("Bun/");
  });

  test("/health/live answers without asking any component", async () => {
    const res = await api.get("/health/live");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "live" });
  });

  test("the OpenAPI document describes the health routes and /metrics", async () => {
    const doc = (await api.get("/openapi.json")).body;
    for (const path of ["/health", "/health/live", "/health/ready", "/metrics"]) {
      expect(doc.paths[path]?.get).toBeDefined();
    }
    expect(Object.keys(doc.paths["/health"].get.responses).sort()).toEqual(["200", "503"]);
    expect(doc.components.schemas.Health.properties.components).toBeDefined();
    const metrics = doc.paths["/metrics"].get;
    expect(Object.keys(metrics.responses["200"].content)).toEqual([
      "text/plain; version=0.0.4; charset=utf-8",
    ]);
    // The description lists the metrics, from the same registry /metrics exposes.
    expect(metrics.description).toContain("schema_registry_http_request_duration_seconds");
    expect(metrics.description).toContain("schema_registry_cache_requests_total");
  });
});

describe.skipIf(!redisUp)("health with Redis and the object store", () => {
  let api: TestRegistry;
  let redis: ThrowawayRedis;
  let driver: RemoteCacheDriver;
  let s3: TestS3;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    driver = await createRemoteCacheDriver({ kind: "ioredis", url: redis.url });
    s3 = await startS3();
    const probes: HealthProbe[] = [
      { name: "redis", critical: false, check: () => driver.ping() },
      { name: "object_store", critical: false, check: async () => void (await s3.store.ping()) },
    ];
    api = await startTestRegistry({ database: "postgres", extend: async () => ({ health: probes }) });
  });
  afterAll(async () => {
    await api?.close();
    await driver?.close();
    await redis?.kill();
    await s3?.stop();
  });

  test("every component up: up and ready, with each latency", async () => {
    const started = performance.now();
    const health = await api.get("/health");
    const elapsed = performance.now() - started;
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("up");
    for (const name of ["postgres", "redis", "object_store"]) {
      expect(health.body.components[name].status).toBe("up");
      // Each probe's own round trip: within the request that ran it.
      expect(health.body.components[name].latency_ms).toBeGreaterThanOrEqual(0);
      expect(health.body.components[name].latency_ms).toBeLessThanOrEqual(elapsed);
    }
    expect((await api.get("/health/ready")).body.status).toBe("ready");
  });

  test("Redis down: degraded, still ready, since requests succeed without it", async () => {
    await redis.kill();
    const health = await api.get("/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("degraded");
    expect(health.body.components.redis.status).toBe("down");
    expect(health.body.components.redis.error).toBe("does not answer");
    expect(health.body.components.postgres.status).toBe("up");
    const ready = await api.get("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("degraded");
    // Registering still works with the cache's Redis gone.
    const created = await api.post("/api/v1/schemas", {
      subject: "health.Degraded",
      schema_type: "json",
      content: { type: "object" },
    });
    expect(created.status).toBe(201);
  });

  test("Redis back: up again", async () => {
    await redis.restart();
    // ioredis reconnects on its own schedule; give it a moment.
    let status = "";
    for (let i = 0; i < 40 && status !== "up"; i++) {
      status = (await api.get("/health")).body.status;
      if (status !== "up") await Bun.sleep(100);
    }
    expect(status).toBe("up");
  });
});

describe("health of a registry whose PostgreSQL does not answer", () => {
  let api: TestRegistry;

  beforeAll(async () => {
    api = await startTestRegistry({
      database: "postgres://registry:secret-password@127.0.0.1:1/registry",
      env: { DATABASE_MIGRATE_ON_START: "false" },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  test("down and unready (503), naming neither host nor credentials; still live", async () => {
    const health = await api.get("/health");
    expect(health.status).toBe(503);
    expect(health.body.status).toBe("down");
    expect(health.body.components.postgres.status).toBe("down");
    expect(health.text).not.toContain("secret-password");
    expect(health.text).not.toContain("127.0.0.1");
    expect((await api.get("/health/ready")).status).toBe(503);
    expect((await api.get("/health/live")).status).toBe(200);
  });
});
