/**
 * State changes and soft deletes over HTTP at a fixed offered rate (open
 * loop): the design's target is p95 < 50 ms at 2,000/s.
 *
 * A fresh database on the machine's PostgreSQL is filled with COUNT schemas
 * (scripts/seed.ts, default 40,000); the registry runs as a child process
 * (`bun src/server.ts`, with Redis), so that this process, the load
 * generator, does not share its event loop. For DURATION seconds, operation k
 * is due at k / RATE s, whether earlier ones were answered or not (at most
 * IN_FLIGHT outstanding), alternating `PATCH /api/v1/schemas/{id}/state`
 * (active → deprecated, deprecated → active) and `DELETE /api/v1/schemas/{id}`
 * (soft), each on a schema of its own. Latency counts from when a request was
 * due, so a server falling behind shows as latency; the server's own view
 * (its /metrics histogram) is printed beside it.
 *
 *   ./node_modules/.bin/bun bench/registry/lifecycle.bench.ts
 *   RATE=2000 DURATION=10 COUNT=40000 ./node_modules/.bin/bun bench/registry/lifecycle.bench.ts
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../../scripts/lib/free-port.ts";
import { processCpuSeconds } from "../../scripts/lib/process-cpu.ts";
import { bucketPercentile, parseDurationBuckets } from "../../scripts/load-test.ts";
import { seedDatabase } from "../../scripts/seed.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { createTestDatabase } from "../../test/support/database.ts";
import { REDIS_TEST_URL } from "../../test/support/redis.ts";

const RATE = Number(process.env.RATE ?? 2000);
const DURATION_S = Number(process.env.DURATION ?? 10);
const COUNT = Number(process.env.COUNT ?? 40_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 512);
const ROOT = join(import.meta.dir, "../..");

type Op = "state" | "delete";

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))]!;
}

const database = await createTestDatabase();
const sql = postgres(database.url, { max: 4, onnotice: () => {} });
let server: ReturnType<typeof spawn> | null = null;
try {
  await migrate(sql);
  const seeded = await seedDatabase(sql, { count: COUNT, subjects: Math.ceil(COUNT / 5) });
  console.log(`seeded ${seeded.rows} schemas in ${seeded.seconds.toFixed(1)} s`);
  const rows = await sql<{ id: string; state: "active" | "deprecated" }[]>`
    SELECT id, state FROM schemas WHERE deleted_at IS NULL AND state IN ('active', 'deprecated')
    ORDER BY md5(id::text)`;
  const needed = RATE * DURATION_S;
  if (rows.length < needed) throw new Error(`${rows.length} schemas for ${needed} operations: raise COUNT`);

  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ["src/server.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: database.url,
      REDIS_URL: REDIS_TEST_URL,
      AUTH_REQUIRED: "false",
      LOG_LEVEL: "warn",
      CACHE_WARM_ON_STARTUP: "false",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health/ready`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (i > 200) throw new Error("the registry did not become ready");
    await Bun.sleep(100);
  }
  // A short warm-up at a tenth of the rate, on rows of its own (the last ones).
  const warm = rows.splice(rows.length - 200, 200);
  await Promise.all(
    warm.map((row) =>
      fetch(`${base}/api/v1/schemas/${row.id}`, { method: "DELETE" }).then((r) => r.arrayBuffer()),
    ),
  );

  // PATCH and DELETE of one schema, as the server's histogram names them.
  const lifecycle = (method: string) => (method === "PATCH" || method === "DELETE" ? "lifecycle" : null);
  const metricsBefore = parseDurationBuckets(await (await fetch(`${base}/metrics`)).text(), lifecycle);
  const serverCpuBefore = processCpuSeconds(server.pid);
  const latencies: Record<Op, number[]> = { state: [], delete: [] };
  const errors: Record<string, number> = {};
  let inFlight = 0;
  let skipped = 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < needed; k++) {
    const due = started + (k * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    if (inFlight >= IN_FLIGHT) {
      // More outstanding than the cap: counted as a failure to serve the rate, not sent.
      skipped++;
      continue;
    }
    const row = rows[k]!;
    const op: Op = k % 2 === 0 ? "state" : "delete";
    inFlight++;
    const request =
      op === "state"
        ? fetch(`${base}/api/v1/schemas/${row.id}/state`, {
            method: "PATCH",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ state: row.state === "active" ? "deprecated" : "active" }),
          })
        : fetch(`${base}/api/v1/schemas/${row.id}`, { method: "DELETE" });
    pending.push(
      request
        .then(async (response) => {
          const body = await response.text();
          if (response.status !== 200 && response.status !== 204) {
            // The envelope's reason (queue_full, queue_timeout, timeout, …) says which bound refused.
            let reason = "";
            try {
              const details = (JSON.parse(body) as { error?: { details?: { reason?: unknown } } }).error
                ?.details;
              if (typeof details?.reason === "string") reason = ` ${details.reason}`;
            } catch {
              // Not the envelope: the status alone.
            }
            const key = `${op} ${response.status}${reason}`;
            errors[key] = (errors[key] ?? 0) + 1;
          }
        })
        .catch((error: unknown) => {
          const key = `${op} ${error instanceof Error ? error.message.slice(0, 60) : "error"}`;
          errors[key] = (errors[key] ?? 0) + 1;
        })
        .finally(() => {
          inFlight--;
          latencies[op].push(performance.now() - due);
        }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const serverCpuAfter = processCpuSeconds(server.pid);
  const metricsAfter = parseDurationBuckets(await (await fetch(`${base}/metrics`)).text(), lifecycle);

  console.log(
    `offered ${RATE}/s for ${DURATION_S} s (open loop, at most ${IN_FLIGHT} in flight); ${needed - skipped} sent, ${skipped} not sent (cap reached), done in ${elapsed.toFixed(1)} s`,
  );
  for (const op of ["state", "delete"] as const) {
    const sorted = latencies[op].sort((a, b) => a - b);
    console.log(
      `  ${op === "state" ? "PATCH state " : "DELETE (soft)"}  n ${sorted.length}  p50 ${percentile(sorted, 50).toFixed(1)} ms  p95 ${percentile(sorted, 95).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`,
    );
  }
  const server95 = bucketPercentile(
    metricsBefore.lifecycle ?? new Map(),
    metricsAfter.lifecycle ?? new Map(),
    95,
  );
  console.log(
    `  server side (its /metrics histogram, both kinds): p95 ${server95 === null ? "n/a" : `${server95.toFixed(1)} ms`}`,
  );
  if (serverCpuBefore !== null && serverCpuAfter !== null) {
    // The registry is one event loop: near 100 % of a core, it is the ceiling whatever PostgreSQL does.
    console.log(
      `  registry process CPU: ${(((serverCpuAfter - serverCpuBefore) / elapsed) * 100).toFixed(0)} % of one core; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
  }
  const all = [...latencies.state, ...latencies.delete].sort((a, b) => a - b);
  const p95 = percentile(all, 95);
  console.log(
    `  both: p95 ${p95.toFixed(1)} ms; errors ${JSON.stringify(errors)}; target p95 < 50 ms at ${RATE}/s: ${p95 < 50 && skipped === 0 && Object.keys(errors).length === 0 ? "met" : "NOT met"}`,
  );
} finally {
  server?.kill("SIGTERM");
  await sql.end({ timeout: 1 });
  await database.drop();
}
