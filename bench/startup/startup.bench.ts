/**
 * Start-up: from spawning `bun src/server.ts` to the first 200 from
 * /health/ready, with real processes on free ports.
 *
 *   external    a PostgreSQL server (a fresh database on the machine's, with
 *               the migrations applied before the runs): target < 1 s
 *   embedded    a fresh embedded database (an empty DATA_DIR each run, so
 *               PGlite initialises and every migration is applied): target < 3 s
 *   restart     the embedded database again on a DATA_DIR a run already made
 *               (what a restarted single-node deployment sees): for reference
 *
 * Each process logs its own `startup_ms` (the time from its first module to
 * listening); the bench prints it beside the wall time, so the part spent
 * loading the runtime and the modules shows as the difference. Runs
 * alternate between the scenarios; median and max are printed.
 *
 * Run: ./node_modules/.bin/bun bench/startup/startup.bench.ts
 * (RUNS per scenario, default 7; BENCH_DATABASE_URL: an admin connection,
 *  default postgres://postgres@127.0.0.1:5432/postgres; RUNTIME=deno runs
 *  `deno run … src/server.ts` instead)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { createMigrator } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../../src/storage/postgres/pool.ts";

const ROOT = resolve(import.meta.dir, "../..");
const RUNS = Number(process.env.RUNS ?? 7);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const RUNTIME = process.env.RUNTIME === "deno" ? "deno" : "bun";
const READY_TIMEOUT_MS = 30_000;

interface Run {
  wallMs: number;
  /** When the server's "listening" log line arrived. */
  listeningMs: number | null;
  /** The server's own start-up figure (first module to listening), from its log line. */
  serverMs: number | null;
}

function command(): string[] {
  if (RUNTIME === "deno") {
    return [
      join(ROOT, "node_modules/.bin/deno"),
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      "src/server.ts",
    ];
  }
  return [process.execPath, "src/server.ts"];
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = server;
  server.stop(true);
  return port;
}

/**
 * Spawns the server, asks /health/ready every 5 ms until it answers 200, then
 * stops it with SIGTERM. Notes when the "listening" log line arrives, so the
 * time before it (runtime, modules, database, migrations) and after it (the
 * first readiness probe) show apart.
 */
async function startOnce(env: Record<string, string>): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  const child = Bun.spawn(command(), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port) },
    stdout: "pipe",
    stderr: "pipe",
  });
  let listeningMs: number | null = null;
  const stdout = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (listeningMs === null && text.includes("listening on")) listeningMs = performance.now() - started;
    }
    return text;
  })();
  const stderr = new Response(child.stderr).text();
  let wallMs = -1;
  try {
    while (performance.now() - started < READY_TIMEOUT_MS) {
      if (child.exitCode !== null) break;
      const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) {
        wallMs = performance.now() - started;
        break;
      }
      await Bun.sleep(5);
    }
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
  const log = (await stdout) + (await stderr);
  if (wallMs < 0) throw new Error(`the server was not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
  const match = /"startup_ms":(\d+)/.exec(log);
  return { wallMs, listeningMs, serverMs: match ? Number(match[1]) : null };
}

function summary(name: string, target: number | null, runs: Run[]): string {
  const walls = runs.map((run) => run.wallMs).sort((a, b) => a - b);
  const servers = runs.flatMap((run) => (run.serverMs === null ? [] : [run.serverMs])).sort((a, b) => a - b);
  const listening = runs
    .flatMap((run) => (run.listeningMs === null ? [] : [run.listeningMs]))
    .sort((a, b) => a - b);
  const median = (values: number[]) => values[Math.floor(values.length / 2)] ?? Number.NaN;
  const verdict =
    target === null ? "" : median(walls) < target && walls.at(-1)! < target ? "  ok" : "  MISSED";
  return [
    name.padEnd(10),
    `median ${median(walls).toFixed(0).padStart(5)} ms`,
    `max ${walls.at(-1)!.toFixed(0).padStart(5)} ms`,
    `(listening at ${median(listening).toFixed(0)} ms; the server's own startup_ms ${median(servers)} ms)`,
    target === null ? "" : `target < ${target} ms${verdict}`,
    `runs: ${walls.map((ms) => ms.toFixed(0)).join(", ")}`,
  ].join("  ");
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const dbName = `startup_bench_${process.pid}`;
await admin.unsafe(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
const databaseUrl = dbUrl.toString();
const scratch = mkdtempSync(join(tmpdir(), "startup-bench-"));

try {
  // The external scenario starts on a migrated database, as after a deploy job's `migrate run`.
  const pool = createPool(databaseUrl, { maxConnections: 1 });
  await (await createMigrator(pool)).run();
  await closePool(pool);

  const common = { LOG_LEVEL: "info", HOST: "127.0.0.1", CACHE_WARM_ON_STARTUP: "true" };
  const results: Record<string, Run[]> = { external: [], embedded: [], restart: [] };
  const reused = join(scratch, "reused");
  for (let round = 0; round < RUNS; round++) {
    results.external!.push(await startOnce({ ...common, DATABASE_URL: databaseUrl }));
    const fresh = join(scratch, `fresh-${round}`);
    results.embedded!.push(await startOnce({ ...common, DATA_DIR: fresh }));
    rmSync(fresh, { recursive: true, force: true });
    results.restart!.push(await startOnce({ ...common, DATA_DIR: reused }));
  }
  // The first restart run made the directory: it was a fresh start, not a restart.
  results.restart!.shift();

  console.log(`start-up, process spawn to first 200 from /health/ready (${RUNTIME}, ${RUNS} runs each)`);
  console.log(summary("external", 1000, results.external!));
  console.log(summary("embedded", 3000, results.embedded!));
  console.log(summary("restart", null, results.restart!));
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
