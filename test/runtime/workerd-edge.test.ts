/**
 * What an edge node does differently, held to it with real workerd
 * processes on this machine's PostgreSQL, Upstash (the bridge) and s3rver:
 *
 * - two nodes share no connection: a write on one reaches the other's L1
 *   through the generation stamp in Upstash within EDGE_STALENESS_MS;
 * - read counts are flushed by request-driven background work (after a
 *   response, in waitUntil), not a timer, and reach schema_access_log;
 * - a body over the host's limit (EDGE_MAX_BODY_BYTES) is answered 413
 *   payload_too_large in the API's envelope before it is read;
 * - a Worker whose settings are wrong answers 503 saying why, and serves once
 *   they are right, instead of crashing the isolate.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { postgresAvailable } from "../support/database.ts";
import { requireRedis } from "../support/redis.ts";
import {
  type Backends,
  bundleWorker,
  type HostProcess,
  hostEnv,
  startBackends,
  startHost,
} from "./edge-hosts.ts";

const available = (await postgresAvailable()) && (await requireRedis("the workerd edge tests"));
const STALENESS_MS = 300;

const json = async (response: Response) => (await response.json()) as any;

describe.skipIf(!available)("workerd edge nodes", () => {
  let backends: Backends;
  let nodeA: HostProcess;
  let nodeB: HostProcess;

  beforeAll(async () => {
    backends = await startBackends();
    await bundleWorker();
    const env = hostEnv(backends, { EDGE_STALENESS_MS: String(STALENESS_MS), EDGE_MAX_BODY_BYTES: "65536" });
    [nodeA, nodeB] = await Promise.all([startHost("workerd", env), startHost("workerd", env)]);
  }, 120_000);
  afterAll(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    await backends?.stop();
  });

  const register = (node: HostProcess, subject: string, required: string[]) =>
    fetch(`${node.url}/api/v1/schemas`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject,
        schema_type: "json",
        content: { type: "object", properties: { a: { type: "string" } }, required },
      }),
    });

  test("a write on one node reaches the other's L1 within EDGE_STALENESS_MS", async () => {
    const subject = "edge.coherence.Order";
    expect((await register(nodeA, subject, ["a"])).status).toBe(201);
    const latest = `/api/v1/subjects/${subject}/versions/latest`;
    // Node B caches the latest version in its L1.
    expect((await json(await fetch(nodeB.url + latest))).version).toBe("1.0.0");
    expect((await json(await fetch(nodeB.url + latest))).version).toBe("1.0.0");
    expect((await register(nodeA, subject, [])).status).toBe(201);
    const written = performance.now();
    let seen = "1.0.0";
    while (seen !== "1.1.0" && performance.now() - written < 10 * STALENESS_MS) {
      seen = (await json(await fetch(nodeB.url + latest))).version;
      if (seen !== "1.1.0") await Bun.sleep(20);
    }
    const after = performance.now() - written;
    expect(seen).toBe("1.1.0");
    // The bound plus the round trips of the check and the read, on a loaded machine.
    expect(after).toBeLessThan(STALENESS_MS + 1000);
  }, 30_000);

  test("read counts reach schema_access_log through the flush after a response", async () => {
    const created = await json(await register(nodeA, "edge.counts.Order", ["a"]));
    for (let i = 0; i < 5; i++)
      await (await fetch(`${nodeA.url}/api/v1/schemas/${created.id}`)).arrayBuffer();
    const sql = postgres(backends.database.url, { max: 1, onnotice: () => {} });
    try {
      let reads = 0;
      const deadline = Date.now() + 20_000;
      while (reads < 5 && Date.now() < deadline) {
        // The flush is due 5 s after the node started counting; the next request after that runs it.
        await Bun.sleep(500);
        await (await fetch(`${nodeA.url}/health/live`)).arrayBuffer();
        const rows = await sql<{ reads: string }[]>`
          SELECT coalesce(sum(reads), 0)::text AS reads FROM schema_access_log WHERE schema_id = ${created.id}`;
        reads = Number(rows[0]?.reads ?? 0);
      }
      expect(reads).toBeGreaterThanOrEqual(5);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 30_000);

  test("a body over EDGE_MAX_BODY_BYTES is answered 413 in the envelope, before it is read", async () => {
    const response = await fetch(`${nodeA.url}/api/v1/schemas`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject: "edge.big.Order",
        schema_type: "json",
        content: { d: "x".repeat(70_000) },
      }),
    });
    expect(response.status).toBe(413);
    const body = await json(response);
    expect(body.error.code).toBe("payload_too_large");
    expect(body.error.message).toContain("this host takes at most 65536");
  });

  test("wrong settings: 503 saying why, never a crash", async () => {
    const broken = await startHost(
      "workerd",
      { ...hostEnv(backends), DATABASE_MAX_CONNECTIONS: "lots" },
      "/health/live",
      () => true,
    );
    try {
      const response = await fetch(`${broken.url}/health/live`);
      expect(response.status).toBe(503);
      const body = await json(response);
      expect(body.error.message).toContain("DATABASE_MAX_CONNECTIONS");
    } finally {
      await broken.stop();
    }
  }, 60_000);
});
