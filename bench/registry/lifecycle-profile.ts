/**
 * Where a state change's or soft delete's time goes, measured rather than
 * guessed: a fresh database seeded with COUNT schemas, the registry built in
 * this process (with Redis when REDIS_URL is given, as a server runs), then
 * OPS operations at CONCURRENCY (closed loop), alternating state change and
 * soft delete, each on a schema of its own, through three layers in turn:
 *
 *   - storage: the repository call alone (the SQL statement, no cache work);
 *   - service: the registry service (admission, the statement, cache
 *     invalidation through the bus, the observer);
 *   - http:    the app's fetch handler (routing, validation, request id,
 *     metrics, access log) in front of the service.
 *
 * For each it prints operations per second, the CPU per operation of this
 * process and of the database's own backends (from /proc, so other work on
 * the machine is not counted), and the database's commits and WAL syncs per
 * operation (pg_stat_database, pg_stat_wal: the WAL figure is the server's,
 * so run it on a quiet machine).
 *
 * With LOG_STATEMENTS=1 every statement of the registry's sessions goes to the
 * server's log with its duration.
 *
 *   ./node_modules/.bin/bun bench/registry/lifecycle-profile.ts
 *   (COUNT default 30,000; OPS per layer default 6,000; CONCURRENCY default 32;
 *    REDIS_URL default the test Redis, "none" for no cache tier; LAYERS: a
 *    comma-separated choice of storage, service, http)
 */
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { processCpuSeconds, totalCpuSeconds } from "../../scripts/lib/process-cpu.ts";
import { seedDatabase } from "../../scripts/seed.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry } from "../../src/app/create-registry.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { createTestDatabase } from "../../test/support/database.ts";
import { REDIS_TEST_URL } from "../../test/support/redis.ts";

const COUNT = Number(process.env.COUNT ?? 30_000);
const OPS = Number(process.env.OPS ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const REDIS_URL = process.env.REDIS_URL ?? REDIS_TEST_URL;

function cpu(backends: number[]): { bun: number; postgres: number } {
  return { bun: processCpuSeconds("self") ?? 0, postgres: totalCpuSeconds(backends) };
}

const database = await createTestDatabase();
const sql = postgres(database.url, { max: 2, onnotice: () => {} });
const name = new URL(database.url).pathname.slice(1);
const config = await loadConfig({
  env: {
    DATABASE_URL: database.url,
    ...(REDIS_URL === "none" ? {} : { REDIS_URL }),
    LOG_LEVEL: "error",
    CACHE_WARM_ON_STARTUP: "false",
    AUTH_REQUIRED: "false",
    ...(process.env.DATABASE_MAX_CONNECTIONS
      ? { DATABASE_MAX_CONNECTIONS: process.env.DATABASE_MAX_CONNECTIONS }
      : {}),
  },
});
let registry: Awaited<ReturnType<typeof createRegistry>> | null = null;
try {
  await migrate(sql);
  await seedDatabase(sql, { count: COUNT, subjects: Math.ceil(COUNT / 5) });
  const rows = await sql<{ id: string; state: "active" | "deprecated" }[]>`
    SELECT id, state FROM schemas WHERE deleted_at IS NULL AND state IN ('active', 'deprecated')
    ORDER BY md5(id::text)`;
  const needed = OPS * (process.env.LAYERS?.split(",").length ?? 3);
  if (rows.length < needed) throw new Error(`${rows.length} schemas for ${needed} operations: raise COUNT`);
  if (process.env.LOG_STATEMENTS === "1") {
    // Every statement's duration into the server's log (sessions opened from now on read it).
    await sql.unsafe(`ALTER DATABASE "${name}" SET log_min_duration_statement = 0`);
  }
  registry = await createRegistry(config);
  const live = registry;
  // Every connection of the pool opened before timing, so their backends are counted.
  await Promise.all(Array.from({ length: CONCURRENCY }, () => live.storage.schemas.stats()));

  const layers = {
    storage: async (row: (typeof rows)[number], k: number) => {
      if (k % 2 === 0) {
        await live.storage.schemas.updateState(
          { id: row.id },
          row.state === "active" ? "deprecated" : "active",
          null,
        );
      } else await live.storage.schemas.softDelete({ id: row.id });
    },
    service: async (row: (typeof rows)[number], k: number) => {
      if (k % 2 === 0) {
        await live.service.updateState(
          { id: row.id },
          row.state === "active" ? "deprecated" : "active",
          null,
        );
      } else await live.service.delete({ id: row.id }, { permanent: false });
    },
    http: async (row: (typeof rows)[number], k: number) => {
      const response =
        k % 2 === 0
          ? await live.fetch(
              new Request(`http://registry/api/v1/schemas/${row.id}/state`, {
                method: "PATCH",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ state: row.state === "active" ? "deprecated" : "active" }),
              }),
            )
          : await live.fetch(new Request(`http://registry/api/v1/schemas/${row.id}`, { method: "DELETE" }));
      const body = await response.text();
      if (response.status !== 200 && response.status !== 204) {
        throw new Error(`answered ${response.status}: ${body.slice(0, 300)}`);
      }
    },
  };
  let offset = 0;
  const only = process.env.LAYERS?.split(",");
  for (const [layer, work] of Object.entries(layers)) {
    if (only && !only.includes(layer)) continue;
    const mine = rows.slice(offset, offset + OPS);
    offset += OPS;
    const backends = (
      await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${name}`
    ).map((row) => row.pid);
    const [before] = await sql<{ commits: string; syncs: string }[]>`
      SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = ${name}) AS commits,
             (SELECT wal_sync FROM pg_stat_wal) AS syncs`;
    await Bun.sleep(600);
    const cpuBefore = cpu(backends);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let k = next++; k < mine.length; k = next++) await work(mine[k]!, k);
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = cpu(backends);
    await Bun.sleep(1200); // Statistics reach the shared views when a backend goes idle.
    const [after] = await sql<{ commits: string; syncs: string }[]>`
      SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = ${name}) AS commits,
             (SELECT wal_sync FROM pg_stat_wal) AS syncs`;
    const per = (a: number, b: number) => ((a - b) / OPS) * 1000;
    console.log(
      `${layer.padEnd(8)} ${(OPS / elapsed).toFixed(0).padStart(5)}/s at ${CONCURRENCY}  CPU per op: this process ${per(cpuAfter.bun, cpuBefore.bun).toFixed(3)} ms, PostgreSQL ${per(cpuAfter.postgres, cpuBefore.postgres).toFixed(3)} ms;  per op: commits ${((Number(after!.commits) - Number(before!.commits)) / OPS).toFixed(2)}, WAL syncs ${((Number(after!.syncs) - Number(before!.syncs)) / OPS).toFixed(2)}  (load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]})`,
    );
  }
} finally {
  await registry?.close();
  await sql.end({ timeout: 1 });
  await database.drop();
}
