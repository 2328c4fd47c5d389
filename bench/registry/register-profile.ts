/**
 * Where a register's time goes, measured rather than guessed: the same
 * workload as register.bench.ts (SUBJECTS subjects with 5 prior versions, then
 * one more version each at CONCURRENCY) on a fresh database, printing
 *
 *   - the CPU per register of this process and of the database's own
 *     backends (from /proc), so other work on the machine is not counted;
 *   - PostgreSQL's own per-function timing (track_functions = all): the
 *     register function and every trigger function it fires, total and self
 *     time per call;
 *   - the rows each table gained and the index scans made, and the indexes a
 *     register maintains;
 *   - with PLANS=1, EXPLAIN (ANALYZE, BUFFERS) of one register (rolled back);
 *   - with LOG_STATEMENTS=1, every statement's duration in the server's log
 *     (log_min_duration_statement = 0 on this database) for the timed phase;
 *   - with KEEP=1, the database is kept for EXPLAIN and A/B runs afterwards.
 *
 * TREE=<checkout> profiles another tree the same way (register.bench.ts's
 * baseline worktree, say), for a comparison in the same conditions.
 *
 * Run: ./node_modules/.bin/bun bench/registry/register-profile.ts
 * (BENCH_DATABASE_URL: an admin connection, default postgres://postgres@127.0.0.1:5432/postgres;
 *  SUBJECTS (default 400), CONCURRENCY (default 16))
 */
import { resolve } from "node:path";
import postgres from "postgres";
import { processCpuSeconds, totalCpuSeconds } from "../../scripts/lib/process-cpu.ts";

// TREE: another checkout to profile the same way (register.bench.ts's baseline worktree, say).
const TREE = resolve(process.env.TREE ?? resolve(import.meta.dir, "../.."));
const { loadConfig } = await import(resolve(TREE, "src/app/config/load-config.ts"));
const { createRegistry } = await import(resolve(TREE, "src/app/create-registry.ts"));

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SUBJECTS = Number(process.env.SUBJECTS ?? 400);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const PRIOR_VERSIONS = 5;

/**
 * CPU seconds (user + system) of this process and of `backends` (this
 * database's PostgreSQL processes), from /proc: other work on the machine is
 * not counted.
 */
function cpuSeconds(backends: number[]): { bun: number; postgres: number } {
  return { bun: processCpuSeconds("self") ?? 0, postgres: totalCpuSeconds(backends) };
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const name = `registry_profile_${Date.now().toString(36)}`;
await admin.unsafe(`CREATE DATABASE ${name}`);
// Per-function timing for every session of this database (superuser setting, no restart needed).
await admin.unsafe(`ALTER DATABASE ${name} SET track_functions = 'all'`);
const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
const direct = postgres(url, { max: 1, onnotice: () => {} });

function content(s: number, v: number): unknown {
  const properties: Record<string, unknown> = { prompt: { type: "string", description: `subject ${s}` } };
  for (let i = 0; i <= v; i++) properties[`field_${i}`] = { type: "string", maxLength: 200 };
  return { type: "object", properties, required: ["prompt"] };
}

async function inParallel(count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

const config = await loadConfig({
  env: { DATABASE_URL: url, LOG_LEVEL: "error", CACHE_WARM_ON_STARTUP: "false" },
});
let registry = await createRegistry(config);
try {
  await inParallel(SUBJECTS * PRIOR_VERSIONS, (i) =>
    registry.service.register({
      subject: `p.s${i % SUBJECTS}`,
      schemaType: "json",
      content: content(i % SUBJECTS, Math.floor(i / SUBJECTS)),
    }),
  );
  await direct`SELECT pg_stat_reset()`;
  if (process.env.LOG_STATEMENTS === "1") {
    // Every statement's duration into the server log, for the timed phase only (new sessions read it).
    await admin.unsafe(`ALTER DATABASE ${name} SET log_min_duration_statement = 0`);
    await registry.close();
    registry = await createRegistry(config);
  }
  await Bun.sleep(600);
  const backends = (
    await direct<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${name}`
  ).map((row) => row.pid);
  const cpuBefore = await cpuSeconds(backends);
  const started = performance.now();
  await inParallel(SUBJECTS, (s) =>
    registry.service.register({
      subject: `p.s${s}`,
      schemaType: "json",
      content: content(s, PRIOR_VERSIONS),
    }),
  );
  const elapsed = performance.now() - started;
  const cpuAfter = await cpuSeconds(backends);
  console.log(
    `${SUBJECTS} registers at concurrency ${CONCURRENCY}: ${((SUBJECTS / elapsed) * 1000).toFixed(0)}/s`,
  );
  console.log(
    `CPU per register: registry process ${(((cpuAfter.bun - cpuBefore.bun) / SUBJECTS) * 1000).toFixed(2)} ms, PostgreSQL ${(((cpuAfter.postgres - cpuBefore.postgres) / SUBJECTS) * 1000).toFixed(2)} ms (this database's backends)`,
  );
  // Statistics reach the shared views when a backend reports them (at idle, within a second).
  await Bun.sleep(1500);
  const functions = await direct<{ funcname: string; calls: string; total_ms: number; self_ms: number }[]>`
    SELECT funcname, calls, total_time AS total_ms, self_time AS self_ms
    FROM pg_stat_user_functions ORDER BY total_time DESC`;
  console.log("\nfunctions (PostgreSQL's timing, per call):");
  for (const f of functions) {
    const calls = Number(f.calls);
    console.log(
      `  ${f.funcname.padEnd(36)} calls ${String(calls).padStart(6)}  total ${(f.total_ms / calls).toFixed(3)} ms  self ${(f.self_ms / calls).toFixed(3)} ms`,
    );
  }
  const tables = await direct<Record<string, string>[]>`
    SELECT relname, n_tup_ins, n_tup_upd, idx_scan, seq_scan FROM pg_stat_user_tables
    WHERE n_tup_ins + n_tup_upd + seq_scan + coalesce(idx_scan, 0) > 0 ORDER BY relname`;
  console.log("\ntables touched during the timed registers:");
  for (const t of tables) console.log(`  ${JSON.stringify(t)}`);
  const indexes = await direct<{ indexrelname: string; size: string }[]>`
    SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) AS size
    FROM pg_stat_user_indexes WHERE relname IN ('schemas', 'schema_search', 'search_words') ORDER BY relname, indexrelname`;
  console.log("\nindexes maintained on every register:");
  for (const i of indexes) console.log(`  ${i.indexrelname} (${i.size})`);
  if (process.env.PLANS === "1") {
    const subject = "p.s1";
    const plans = await direct.unsafe(`
      BEGIN;
      EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM registry_register(
        '${subject}', '9.0.0', '9.0.0', '001009.001000.001000~', 'json', 'active',
        '{"type":"object"}'::jsonb, '{"type":"object"}', 'sha256:${"a".repeat(64)}', 17, 'inline', NULL,
        '{"description":"a profile row","tags":["x","y"],"owner":"team"}'::jsonb, NULL, '[]'::jsonb, '', NULL, NULL);
      ROLLBACK;`);
    console.log(plans);
  }
} finally {
  await registry.close();
  await direct.end();
  if (process.env.KEEP === "1") console.log(`kept database ${name}`);
  else await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
