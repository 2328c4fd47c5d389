/**
 * DATABASE_READ_URLS against a real streaming replica: a throwaway primary
 * and replica built from the machine's PostgreSQL binaries
 * (support/replica-cluster.ts), and two registry instances started through
 * the composition root with the primary as DATABASE_URL and the replica as
 * their read URL, driven over HTTP with `app.request()`.
 *
 * Which server answered is shown by data, not by trusting the router: with
 * the replica's replay paused, a row changed on the primary behind the
 * registry's back reads old through a replica and new through the primary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ReadReplicas } from "../../src/storage/postgres/read-replicas.ts";
import type { ReadRoutingStats } from "../../src/storage/postgres/read-routing.ts";
import { type JsonBody, jsonSchema, startTestRegistry, type TestRegistry } from "../support/app.ts";
import {
  type ReplicaCluster,
  replicaClusterAvailable,
  startReplicaCluster,
} from "../support/replica-cluster.ts";

const available = replicaClusterAvailable();

function routedOf(api: TestRegistry): ReadReplicas {
  const replicas = api.registry.replicas;
  if (!replicas) throw new Error("the registry was started without read replicas");
  return replicas;
}

function routing(api: TestRegistry): ReadRoutingStats {
  return routedOf(api).readRouting();
}

async function register(
  api: TestRegistry,
  subject: string,
  n: number,
  description: string,
): Promise<JsonBody> {
  const res = await api.post("/api/v1/schemas", {
    subject,
    schema_type: "json",
    content: jsonSchema(n),
    metadata: { description, tags: ["replica-test"] },
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe.skipIf(!available)("read replicas (DATABASE_READ_URLS) on a streaming replica", () => {
  let cluster: ReplicaCluster;
  let a: TestRegistry;
  let b: TestRegistry;
  /** Registered before the replay is paused, so the replica holds it too. */
  let shared: JsonBody;

  /** Both instances have read the replica's position since everything so far was replayed. */
  async function replicaCaughtUp(): Promise<void> {
    await cluster.waitForReplay();
    await Promise.all([upAgain(a), upAgain(b)]);
  }

  /** The health check reads the replica's position now; a replica just restarted may take a moment to answer. */
  async function upAgain(api: TestRegistry): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await routedOf(api).checkReplica(0);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  }

  beforeAll(async () => {
    cluster = await startReplicaCluster();
    // No cache in front of the storage: every read under test must reach the routing (L1 is on by default).
    const env = { DATABASE_READ_URLS: cluster.replicaUrl, CACHE_L1_MAX_ENTRIES: "0" };
    a = await startTestRegistry({ database: cluster.primaryUrl as `postgres://${string}`, env });
    b = await startTestRegistry({ database: cluster.primaryUrl as `postgres://${string}`, env });
    shared = await register(a, "com.acme.replica.Shared", 1, "written before the pause");
    await replicaCaughtUp();
    // initdb, two server starts and a base backup: a few seconds, more on a busy machine.
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await cluster?.stop();
  }, 30_000);

  test("the registry says it reads from a replica, and /health lists it", async () => {
    expect(a.registry.storageMode).toEndWith("with 1 read replica");
    const health = await a.get("/health");
    expect(health.status).toBe(200);
    expect(health.body.components.postgres_replica_1).toMatchObject({ status: "up", critical: false });
  });

  test("reads are served by the replica: a change made on the primary alone is not seen", async () => {
    await cluster.pauseReplay();
    // Behind the registry's back, so no instance knows the primary moved on.
    await cluster.primary`
      UPDATE schemas SET metadata = jsonb_set(metadata, '{description}', '"changed on the primary only"')
      WHERE id = ${shared.id}`;

    const before = routing(a);
    const byId = await a.get(`/api/v1/schemas/${shared.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.metadata.description).toBe("written before the pause");

    const version = await a.get("/api/v1/subjects/com.acme.replica.Shared/versions/1.0.0");
    expect(version.body.metadata.description).toBe("written before the pause");
    const latest = await a.get("/api/v1/subjects/com.acme.replica.Shared/versions/latest");
    expect(latest.body.metadata.description).toBe("written before the pause");
    const search = await a.get("/api/v1/search?q=primary%20only");
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    const subjects = await a.get("/api/v1/subjects");
    expect(subjects.body.items.map((s: JsonBody) => s.subject)).toContain("com.acme.replica.Shared");

    const after = routing(a);
    expect(after.replicas[0]!.reads - before.replicas[0]!.reads).toBe(5);
    expect(after.primaryReads).toBe(before.primaryReads);
  });

  test("a read right after a register, a deprecation and a delete sees each of them", async () => {
    const created = await register(a, "com.acme.replica.Fresh", 2, "registered while the replica is paused");
    // The write went to the primary: the row is there, and not on the paused replica.
    expect(await cluster.primary`SELECT 1 FROM schemas WHERE id = ${created.id}`).toHaveLength(1);
    expect(await cluster.replica`SELECT 1 FROM schemas WHERE id = ${created.id}`).toHaveLength(0);

    expect((await a.get(`/api/v1/schemas/${created.id}`)).status).toBe(200);
    expect((await a.get(`/api/v1/schemas/${created.global_id}`)).body.id).toBe(created.id);
    const latest = await a.get("/api/v1/subjects/com.acme.replica.Fresh/versions/latest");
    expect(latest.body.id).toBe(created.id);
    const versions = await a.get("/api/v1/subjects/com.acme.replica.Fresh/versions");
    expect(versions.body.items.map((v: JsonBody) => v.id)).toEqual([created.id]);
    const found = await a.get("/api/v1/search?q=paused&subject=com.acme.replica.*");
    expect(found.body.items.map((hit: JsonBody) => hit.id)).toContain(created.id);
    // Reads that follow a write see the primary: the change made behind the registry's back too.
    const shared2 = await a.get(`/api/v1/schemas/${shared.id}`);
    expect(shared2.body.metadata.description).toBe("changed on the primary only");

    const deprecated = await a.request("PATCH", `/api/v1/schemas/${created.id}/state`, {
      body: { state: "deprecated", reason: "replaced" },
    });
    expect(deprecated.status).toBe(200);
    expect((await a.get(`/api/v1/schemas/${created.id}`)).body.state).toBe("deprecated");
    const history = await a.get(`/api/v1/schemas/${created.id}/history`);
    expect(JSON.stringify(history.body)).toContain("replaced");

    expect((await a.request("DELETE", `/api/v1/schemas/${created.id}`)).status).toBe(204);
    expect((await a.get(`/api/v1/schemas/${created.id}`)).status).toBe(404);
    expect((await a.get("/api/v1/subjects/com.acme.replica.Fresh/versions")).status).toBe(404);
    const stats = await a.get("/api/v1/stats");
    expect(stats.body.schemas.deleted).toBe(1);
  });

  test("another instance finds an id the paused replica lacks on the primary, and catches up on demand", async () => {
    const created = await register(a, "com.acme.replica.Elsewhere", 3, "registered through instance a");
    const before = routing(b);
    const res = await b.get(`/api/v1/schemas/${created.id}`);
    expect(res.status).toBe(200);
    expect(routing(b).retriedOnPrimary).toBe(before.retriedOnPrimary + 1);

    // Instance b has written nothing, so its reads of rows the replica holds stay on the replica...
    const deprecated = await a.request("PATCH", `/api/v1/schemas/${shared.id}/state`, {
      body: { state: "deprecated" },
    });
    expect(deprecated.status).toBe(200);
    expect((await b.get(`/api/v1/schemas/${shared.id}`)).body.state).toBe("active");
    // ...until it is told to catch up (what the cache's invalidation listener does).
    await routedOf(b).catchUp();
    expect((await b.get(`/api/v1/schemas/${shared.id}`)).body.state).toBe("deprecated");
  });

  test("once the replica has replayed the writes, it serves them again", async () => {
    await cluster.resumeReplay();
    await replicaCaughtUp();
    const before = routing(a);
    const res = await a.get(`/api/v1/schemas/${shared.id}`);
    expect(res.body.state).toBe("deprecated");
    expect(res.body.metadata.description).toBe("changed on the primary only");
    expect(routing(a).replicas[0]!.reads).toBe(before.replicas[0]!.reads + 1);
  });

  test("a dead replica: reads fall back to the primary, readiness holds, and it is used again once back", async () => {
    await cluster.killReplica();
    const res = await a.get(`/api/v1/schemas/${shared.id}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(shared.id);
    const search = await a.get("/api/v1/search?subject=com.acme.replica.*");
    expect(search.status).toBe(200);
    expect(search.body.total).toBeGreaterThan(0);
    const afterKill = routing(a);
    expect(afterKill.replicas[0]!.status).toBe("down");

    const ready = await a.get("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("degraded");
    expect(ready.body.checks.postgres_replica_1.status).toBe("down");

    // While it is down no read is sent its way: each one goes straight to the primary.
    const primaryBefore = routing(a).primaryReads;
    for (let i = 0; i < 5; i++) expect((await a.get(`/api/v1/schemas/${shared.id}`)).status).toBe(200);
    expect(routing(a).primaryReads).toBe(primaryBefore + 5);

    await cluster.startReplica();
    await replicaCaughtUp();
    const before = routing(a);
    expect((await a.get(`/api/v1/schemas/${shared.id}`)).status).toBe(200);
    expect(routing(a).replicas[0]!.reads).toBe(before.replicas[0]!.reads + 1);
    expect(routing(a).replicas[0]!.failures).toBeGreaterThan(0);
  });
});
