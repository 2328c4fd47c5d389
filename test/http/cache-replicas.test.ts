/**
 * The tiered cache in front of read replicas: two instances on a throwaway
 * primary and streaming replica (support/replica-cluster.ts) with the
 * machine's Redis. With the replica's replay paused, a deprecation on A must
 * show on B: B's reload after the invalidation must not come from the replica
 * that has not replayed it (and then sit in the caches until their TTL).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { jsonSchema } from "../support/app.ts";
import { deleteByPrefix, REDIS_TEST_URL, requireRedis, uniquePrefix } from "../support/redis.ts";
import {
  type ReplicaCluster,
  replicaClusterAvailable,
  startReplicaCluster,
} from "../support/replica-cluster.ts";

const available = replicaClusterAvailable() && (await requireRedis("cache in front of read replicas"));

describe.skipIf(!available)("cache in front of a streaming replica", () => {
  let cluster: ReplicaCluster;
  let a: Registry;
  let b: Registry;
  const keyPrefix = uniquePrefix("replicas");
  const channel = `cache_replica_${crypto.randomUUID().slice(0, 8)}`;

  async function start(): Promise<Registry> {
    const config = await loadConfig({
      env: {
        LOG_LEVEL: "silent",
        DATABASE_URL: cluster.primaryUrl,
        AUTH_REQUIRED: "false",
        DATABASE_READ_URLS: cluster.replicaUrl,
        REDIS_URL: REDIS_TEST_URL,
        CACHE_WARM_ON_STARTUP: "false",
      },
    });
    return createRegistry(config, { cache: { keyPrefix, channel } });
  }

  async function read(registry: Registry, path: string) {
    const res = await registry.app.request(path);
    return { status: res.status, body: (await res.json()) as { state?: string } };
  }

  beforeAll(async () => {
    cluster = await startReplicaCluster();
    a = await start();
    b = await start();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await cluster?.stop();
    await deleteByPrefix(keyPrefix);
  }, 30_000);

  test("a deprecation on A shows on B while the replica has not replayed it", async () => {
    const created = await a.app.request("/api/v1/schemas", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ subject: "cache.replica.Prompt", schema_type: "json", content: jsonSchema(1) }),
    });
    const { id } = (await created.json()) as { id: string };
    await cluster.waitForReplay();
    await Promise.all([a, b].map((registry) => registry.replicas!.checkReplica(0)));
    const path = `/api/v1/schemas/${id}`;
    expect((await read(b, path)).body.state).toBe("active");

    await cluster.pauseReplay();
    try {
      const changed = await a.app.request(`${path}/state`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ state: "deprecated" }),
      });
      expect(changed.status).toBe(200);
      expect((await read(a, path)).body.state).toBe("deprecated");
      const deadline = Date.now() + 3_000;
      let seen = (await read(b, path)).body.state;
      while (seen !== "deprecated" && Date.now() < deadline) {
        await Bun.sleep(10);
        seen = (await read(b, path)).body.state;
      }
      expect(seen).toBe("deprecated");
      // And it stays so: nothing stale was put back into the caches.
      await Bun.sleep(100);
      expect((await read(b, path)).body.state).toBe("deprecated");
    } finally {
      await cluster.resumeReplay();
    }
  });
});
