/**
 * L2 on a real Sentinel group (a primary, a replica and a sentinel started by
 * this file from the machine's redis-server) across failovers of its primary:
 *
 * - the driver follows a promotion, and a delete the new primary never
 *   received (replication is asynchronous) is made again on it before any
 *   read of the driver reaches it;
 * - two registry instances (A with L1, B without, so B's every read goes to
 *   L2) under a steady run of reads and writes lose no request while the
 *   primary fails over, by SENTINEL FAILOVER and by being killed: reads are
 *   answered from L1 or PostgreSQL, writes succeed, and both instances still
 *   see each other's writes afterwards. How long L2 was lost is printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRemoteCacheDriver, type RemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { jsonSchema, type RegistryInstance, startRegistryInstance, until } from "../support/app.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import {
  requireRedisServer,
  type SentinelTopology,
  startSentinelTopology,
} from "../support/redis-topologies.ts";

const available = requireRedisServer("L2 on Redis Sentinel");
const withDatabase = available && (await postgresAvailable());

let topology: SentinelTopology;

beforeAll(async () => {
  if (available) topology = await startSentinelTopology();
});
afterAll(async () => {
  await topology?.stop();
});

/** `read` on the data node at `port`. */
async function onNode<T>(port: number, read: (client: ReturnType<SentinelTopology["client"]>) => Promise<T>) {
  const client = topology.client(port);
  try {
    await client.connect();
    return await read(client);
  } finally {
    client.disconnect();
  }
}

/** Resolves once `op` answers without throwing (the driver may still be reconnecting). */
async function once<T>(op: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await op();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(20);
    }
  }
}

describe.skipIf(!available)("the driver across a failover", () => {
  let driver: RemoteCacheDriver;
  afterAll(async () => {
    await driver?.close();
  });

  test("a delete the promoted replica never received is made again before anything is read from it", async () => {
    driver = await createRemoteCacheDriver({
      kind: "sentinel",
      sentinels: topology.sentinels,
      master: topology.master,
    });
    const old = await topology.primaryPort();
    const replica = [...topology.nodes.keys()].find((port) => port !== old)!;

    await driver.set("replay:deleted", "v1", 60);
    await driver.set("replay:kept", "kept", 60);
    await until(
      () => onNode(replica, (c) => c.get("replay:kept")),
      (value) => value === "kept",
    );
    await driver.delete("replay:deleted");
    await until(
      () => onNode(replica, (c) => c.exists("replay:deleted")),
      (count) => count === 0,
    );
    // The replica holds the value its primary deleted: what a delete lost to asynchronous replication leaves.
    await onNode(replica, async (c) => {
      await c.config("SET", "replica-read-only", "no");
      await c.set("replay:deleted", "stale");
    });

    expect(await topology.failover()).toBe(replica);
    // The new primary serves the stale value to anyone who does not know better...
    expect(await onNode(replica, (c) => c.get("replay:deleted"))).toBe("stale");
    // ...but never to the driver, which deletes it again once it reaches that primary (it reads from the
    // demoted one until the sentinel reconfigures it and closes its connections), and leaves the rest alone.
    const answers = new Set<string | null>();
    await until(
      async () => {
        answers.add(await once(() => driver.get("replay:deleted")));
        return onNode(replica, (c) => c.exists("replay:deleted"));
      },
      (count) => count === 0,
    );
    expect([...answers]).toEqual([null]);
    expect(await driver.get("replay:kept")).toBe("kept");
    // It writes to the new primary.
    await driver.set("replay:after", "after", 60);
    expect(await onNode(replica, (c) => c.get("replay:after"))).toBe("after");
  });
});

interface RunReport {
  requests: number;
  writes: number;
  failures: string[];
  /** ms from the failover's start to B's first L2 error, and to its last; null without any. */
  l2LostFrom: number | null;
  l2LostUntil: number | null;
  /** ms from the failover's start until B's reads were answered from L2 again after its last error. */
  l2BackAfter: number | null;
  failoverMs: number;
}

describe.skipIf(!withDatabase)("two registry instances while the primary fails over", () => {
  let database: TestDatabase;
  let a: RegistryInstance;
  let b: RegistryInstance;
  const channel = `cache_sentinel_${crypto.randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  let registered = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    // A cool-down of 1 s rather than 5 s: the breaker's probe finds the new primary sooner (see the report).
    const extras = { l2Guard: { breaker: { cooldownMs: 1_000 } } };
    a = await startRegistryInstance(database.url, topology.env, { channel, extras });
    b = await startRegistryInstance(
      database.url,
      { ...topology.env, CACHE_L1_MAX_ENTRIES: "0" },
      { channel, extras },
    );
    for (let i = 0; i < 20; i++) ids.push((await register(a)).id);
  });
  afterAll(async () => {
    await a?.registry.close();
    await b?.registry.close();
    await database?.drop();
  });

  async function register(instance: RegistryInstance): Promise<{ id: string; status: number }> {
    const n = registered++;
    const res = await instance.call("POST", "/api/v1/schemas", {
      subject: `sentinel.S${n}`,
      schema_type: "json",
      version: "1.0.0",
      content: jsonSchema(n),
    });
    return { id: res.body?.id, status: res.status };
  }

  /** Reads and writes on both instances while `failover` runs; every answer is checked. */
  async function runThrough(failover: () => Promise<number>): Promise<RunReport> {
    const failures: string[] = [];
    let requests = 0;
    let writes = 0;
    let running = true;
    const reader = async (w: number) => {
      for (let i = w; running; i++) {
        const instance = i % 2 === 0 ? a : b;
        const id = ids[i % ids.length]!;
        const res = await instance.call("GET", `/api/v1/schemas/${id}`);
        requests++;
        if (res.status !== 200 || res.body.id !== id) failures.push(`GET ${id}: ${res.status}`);
        await Bun.sleep(2);
      }
    };
    const writer = async () => {
      for (let i = 0; running; i++) {
        const { id, status } = await register(i % 2 === 0 ? a : b);
        writes++;
        if (status !== 201) failures.push(`POST: ${status}`);
        else {
          // A write both instances must see at once: the writer's own read, and the other's.
          const other = i % 2 === 0 ? b : a;
          const res = await other.call("GET", `/api/v1/schemas/${id}`);
          if (res.status !== 200) failures.push(`GET new ${id} on the other instance: ${res.status}`);
        }
        await Bun.sleep(10);
      }
    };
    const samples: { at: number; errors: number; hits: number; breaker: string }[] = [];
    let started = 0;
    const sampler = async () => {
      while (running) {
        const l2 = (await b.call("GET", "/api/v1/stats")).body.cache.tiers.l2;
        samples.push({
          at: performance.now() - started,
          errors: l2.errors,
          hits: l2.hits,
          breaker: l2.breaker,
        });
        await Bun.sleep(20);
      }
    };

    const workers = [...Array.from({ length: 4 }, (_, w) => reader(w)), writer()];
    await Bun.sleep(300);
    started = performance.now();
    const sampling = sampler();
    await failover();
    const failoverMs = performance.now() - started;
    const newPrimary = await topology.primaryPort();
    const lostAt = (i: number) =>
      i > 0 && (samples[i]!.errors > samples[i - 1]!.errors || samples[i]!.breaker !== "closed");
    // Until B's L2 has had no error for a second and answered reads again since its last one.
    await until(
      async () => {
        await Bun.sleep(50);
        let last = 0;
        for (let i = 1; i < samples.length; i++) if (lostAt(i)) last = i;
        const since = samples.slice(last + 1);
        return (
          since.length > 0 &&
          since.at(-1)!.at - samples[last]!.at > 1_000 &&
          since.at(-1)!.hits > samples[last]!.hits
        );
      },
      (done) => done,
      15_000,
    );
    running = false;
    await Promise.all([...workers, sampling]);

    let l2LostFrom: number | null = null;
    let l2LostUntil: number | null = null;
    for (let i = 1; i < samples.length; i++) {
      if (!lostAt(i)) continue;
      l2LostFrom ??= samples[i]!.at;
      l2LostUntil = samples[i]!.at;
    }
    const back =
      l2LostUntil === null
        ? null
        : samples.find((s, i) => i > 0 && s.at > l2LostUntil! && s.hits > samples[i - 1]!.hits);
    // B's cache entries are on the new primary.
    const held = await onNode(newPrimary, (c) => c.dbsize());
    expect(held).toBeGreaterThan(0);
    return { requests, writes, failures, l2LostFrom, l2LostUntil, l2BackAfter: back?.at ?? null, failoverMs };
  }

  function print(label: string, report: RunReport) {
    const ms = (value: number | null) => (value === null ? "none" : `${Math.round(value)} ms`);
    console.log(
      `${label}: ${report.requests} reads and ${report.writes} writes, ${report.failures.length} failed; ` +
        `sentinel promoted the replica after ${ms(report.failoverMs)}; B's L2 errors from ${ms(report.l2LostFrom)} ` +
        `to ${ms(report.l2LostUntil)}; B read from L2 again ${ms(report.l2BackAfter)} after the start`,
    );
  }

  /** After a failover: a change on either instance reaches the other through L1 and L2 alike. */
  async function stillCoherent() {
    const id = ids[registered % ids.length]!;
    const path = `/api/v1/schemas/${id}`;
    for (const instance of [a, b, a, b]) expect((await instance.call("GET", path)).status).toBe(200);
    const state = (await a.call("GET", path)).body.state === "active" ? "deprecated" : "active";
    expect((await b.call("PATCH", `${path}/state`, { state })).status).toBe(200);
    expect((await b.call("GET", path)).body.state).toBe(state);
    try {
      await until(
        () => a.call("GET", path),
        (res) => res.body.state === state,
      );
    } catch (error) {
      // What each tier holds, so a failure here says which one kept the old state.
      const nodes: Record<string, unknown> = {};
      for (const port of topology.nodes.keys()) {
        nodes[port] = await onNode(port, async (c) => [
          (await c.role())[0],
          await c.keys(`*${id}*`),
          (await c.get(`registry:v1.j:schema:id:${id}`))?.slice(0, 200),
        ]).catch((e) => String(e));
      }
      console.log(
        "DEBUG",
        JSON.stringify({
          want: state,
          a: (await a.call("GET", path)).body.state,
          b: (await b.call("GET", path)).body.state,
          primary: await topology.primaryPort(),
          nodes,
          aStats: (await a.call("GET", "/api/v1/stats")).body.cache,
        }),
      );
      throw error;
    }
  }

  test("SENTINEL FAILOVER: no request is lost; both instances stay coherent", async () => {
    const report = await runThrough(() => topology.failover());
    print("SENTINEL FAILOVER", report);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(report.writes).toBeGreaterThan(5);
    await stillCoherent();
  });

  test("the primary killed: no request is lost; both instances stay coherent", async () => {
    const report = await runThrough(() => topology.killPrimary());
    print("primary killed", report);
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(report.writes).toBeGreaterThan(5);
    // A dead primary is noticed: B's L2 calls failed for a while, then came back.
    expect(report.l2LostFrom).not.toBeNull();
    expect(report.l2BackAfter).not.toBeNull();
    await stillCoherent();
  });
});
