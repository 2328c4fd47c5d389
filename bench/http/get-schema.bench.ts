/**
 * HTTP load bench of `GET /api/v1/schemas/{id}`: the registry against its
 * baselines, each in a process of its own on a free port, driven in one run
 * by wrk (`/usr/bin/wrk`; autocannon when wrk is missing) with the same
 * connections, in interleaved rounds, printing req/s and the ratios the
 * registry is held to:
 *
 *   bare      a bare `Bun.serve` answering the registry's response bytes
 *   http      `Bun.serve` doing the read's HTTP work alone: the URL and two
 *             request headers read (request id, If-None-Match), the same bytes
 *             answered with the registry's four response headers; what no
 *             registry can skip, so l1 / http is the registry's own cost
 *   redis     a Hono route answering with one raw ioredis GET of those bytes
 *   l1        the registry, answered from L1
 *   l2        the registry with L1 off (CACHE_L1_MAX_ENTRIES=0), answered from L2
 *   confluent the l1 registry process asked the Confluent way, `GET /schemas/ids/{id}`
 *   naive     a Hono route answering with one postgres.js primary-key select of the row
 *   pg        the registry with its caches off (no L1, no Redis): every read from PostgreSQL
 *
 * Targets: l1 ≥ 0.85x bare; l2 ≥ 1.0x redis; confluent ≥ 0.95x l1; pg ≥ 0.9x naive.
 *
 * The naive route selects the columns the registry's read selects (the same
 * statement work in PostgreSQL and in the driver), with a pool of the same
 * size and prepared statements, so pg / naive is the registry's own cost
 * (its body, `c.json` of the row, is about 1.5 KB against the registry's 1.3).
 * Beside req/s each server's CPU per request is printed (Linux: utime + stime
 * of its process over each round), and PostgreSQL's (every backend of the
 * bench database over the round: only the server driven then uses it): wrk,
 * the servers and PostgreSQL share this machine's cores, and CPU per request
 * moves less with the load of others.
 *
 *   ./node_modules/.bin/bun bench/http/get-schema.bench.ts
 *   DURATION=5 ROUNDS=3 CONNECTIONS=64 ./node_modules/.bin/bun bench/http/get-schema.bench.ts
 *   KINDS=naive,pg ./node_modules/.bin/bun bench/http/get-schema.bench.ts   (some of them)
 *
 * Needs the machine's PostgreSQL (a fresh database, dropped afterwards) and
 * Redis (keys under a prefix of the run's own, deleted afterwards). The same
 * file is the servers' entry point (`--serve <kind>`).
 */
import { Hono } from "hono";
import { Redis } from "ioredis";
import postgres from "postgres";
import { processCpuSeconds } from "../../scripts/lib/process-cpu.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry } from "../../src/app/create-registry.ts";
import { RECORD_COLUMNS } from "../../src/storage/postgres/schema-rows.ts";
import { ADMIN_URL, createTestDatabase } from "../../test/support/database.ts";
import { deleteByPrefix, REDIS_TEST_URL } from "../../test/support/redis.ts";
import { drive, WRK } from "./load-driver.ts";

/**
 * Connections per server to PostgreSQL: every server of the run holds its own
 * pool, and at the default 50 each the registries and the naive route together
 * would pass the server's max_connections (100) under load.
 */
const POOL_SIZE = 16;

type Kind = "bare" | "http" | "redis" | "l1" | "l2" | "confluent" | "naive" | "pg";
const KINDS: Kind[] = ["bare", "http", "redis", "l1", "l2", "confluent", "naive", "pg"];
const LABELS: Record<Kind, string> = {
  bare: "bare Bun.serve, same bytes",
  http: "Bun.serve, the read's HTTP work",
  redis: "Hono + one raw ioredis GET",
  l1: "registry, L1 hit",
  l2: "registry, L1 off, L2 hit",
  confluent: "registry, /schemas/ids/{id}, L1",
  naive: "Hono + one postgres.js select",
  pg: "registry, caches off, PostgreSQL",
};

// ---------------------------------------------------------------- servers

async function serve(kind: Kind): Promise<void> {
  const env = process.env;
  let fetch: (request: Request) => Response | Promise<Response>;
  let close = async () => {};
  if (kind === "bare") {
    const body = await Bun.file(env.BODY_FILE!).bytes();
    const headers = { "Content-Type": env.CONTENT_TYPE! };
    fetch = () => new Response(body, { headers });
  } else if (kind === "http") {
    const body = await Bun.file(env.BODY_FILE!).bytes();
    const contentType = env.CONTENT_TYPE!;
    const etag = `W/"sha256:${"0".repeat(64)};updated=1764460800000"`;
    let sequence = 0;
    fetch = (request) => {
      // What the fast path reads of every request, and the headers every answer of it carries.
      if (!request.url.includes("/schemas/")) return new Response(null, { status: 404 });
      const requestId = request.headers.get("x-request-id") ?? `request-${sequence++}`;
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304 });
      return new Response(body, {
        status: 200,
        headers: {
          "X-Request-Id": requestId,
          ETag: etag,
          "Cache-Control": "no-cache",
          "Content-Type": contentType,
        },
      });
    };
  } else if (kind === "redis") {
    const redis = new Redis(env.REDIS_URL!);
    const key = env.REDIS_KEY!;
    const contentType = env.CONTENT_TYPE!;
    const app = new Hono();
    app.get("/api/v1/schemas/:id", async (c) => {
      const text = await redis.get(key);
      return text === null ? c.notFound() : c.body(text, 200, { "Content-Type": contentType });
    });
    fetch = app.fetch;
    close = async () => void redis.disconnect();
  } else if (kind === "naive") {
    // The registry's pool settings where they matter: the same size (POOL_SIZE), prepared statements.
    const sql = postgres(env.DATABASE_URL!, { max: POOL_SIZE, prepare: true, onnotice: () => {} });
    // The registry's read selects every column of a record (three of them jsonb, three timestamps): so does this.
    const columns = sql.unsafe(RECORD_COLUMNS);
    const app = new Hono();
    app.get("/api/v1/schemas/:id", async (c) => {
      const [row] = await sql`SELECT ${columns} FROM schemas WHERE id = ${c.req.param("id")}`;
      return row ? c.json(row) : c.notFound();
    });
    fetch = app.fetch;
    close = () => sql.end({ timeout: 1 });
  } else {
    const config = await loadConfig({
      env: {
        LOG_LEVEL: "warn",
        DATABASE_URL: env.DATABASE_URL!,
        AUTH_REQUIRED: "false",
        ...(kind === "pg" ? {} : { REDIS_URL: env.REDIS_URL! }),
        CACHE_WARM_ON_STARTUP: "false",
        DATABASE_MAX_CONNECTIONS: String(POOL_SIZE),
        ...(kind === "l2" || kind === "pg" ? { CACHE_L1_MAX_ENTRIES: "0" } : {}),
      },
    });
    const registry = await createRegistry(config, { cache: { keyPrefix: env.KEY_PREFIX! } });
    // What src/server.ts serves: the app behind its fast path.
    fetch = registry.fetch;
    close = () => registry.close();
  }
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
  process.on("SIGTERM", async () => {
    server.stop(true);
    await close();
    process.exit(0);
  });
  console.log(`READY ${server.port}`);
}

interface Child {
  kind: Kind;
  port: number;
  process: ReturnType<typeof Bun.spawn>;
}

async function spawnServer(kind: Kind, env: Record<string, string>): Promise<Child> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--serve", kind], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} server exited before it was ready: ${seen}`);
    seen += decoder.decode(value);
    const ready = /READY (\d+)/.exec(seen);
    if (ready) {
      reader.releaseLock();
      // Keep draining so a chatty child never blocks on a full pipe.
      void (child.stdout as ReadableStream<Uint8Array>).pipeTo(new WritableStream());
      return { kind, port: Number(ready[1]), process: child };
    }
  }
}

// ---------------------------------------------------------------- load

/**
 * CPU seconds used so far by each backend PostgreSQL runs for `database`, by
 * pid; null when the server's processes cannot be read (another machine).
 */
async function backendSeconds(admin: postgres.Sql, database: string): Promise<Map<number, number> | null> {
  const rows = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`;
  const seconds = new Map<number, number>();
  for (const { pid } of rows) {
    const used = processCpuSeconds(pid);
    if (used === null) return null;
    seconds.set(pid, used);
  }
  return seconds;
}

/** CPU seconds the backends used between two readings; one that came meanwhile counts whole. */
function backendDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, used] of after) total += used - (before.get(pid) ?? 0);
  return total;
}

// ---------------------------------------------------------------- run

async function main(): Promise<void> {
  const seconds = Number(process.env.DURATION ?? 4);
  const rounds = Number(process.env.ROUNDS ?? 3);
  const connections = Number(process.env.CONNECTIONS ?? 64);
  const run = crypto.randomUUID().slice(0, 8);
  const keyPrefix = `bench:http:${run}`;
  const database = await createTestDatabase();
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const children: Child[] = [];
  const tmp = `/tmp/get-schema-bench-${run}.body`;
  try {
    const base = { DATABASE_URL: database.url, REDIS_URL: REDIS_TEST_URL, KEY_PREFIX: keyPrefix };
    const l1 = await spawnServer("l1", base);
    children.push(l1);
    // A typical schema: a JSON Schema of about 1 KB of content.
    const properties = Object.fromEntries(
      Array.from({ length: 24 }, (_, i) => [`field_${i}`, { type: i % 2 ? "string" : "integer" }]),
    );
    const created = await fetch(`http://127.0.0.1:${l1.port}/api/v1/schemas`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subject: "bench.http.Prompt",
        schema_type: "json",
        content: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties },
        metadata: { description: "HTTP bench", tags: ["bench"], owner: "bench" },
      }),
    });
    const { id, content_id: contentId } = (await created.json()) as { id: string; content_id: number };
    const path = `/api/v1/schemas/${id}`;
    // The same schema as Confluent's deserializers ask for it, from the same L1 registry process.
    const confluentPath = `/schemas/ids/${contentId}`;
    const sample = await fetch(`http://127.0.0.1:${l1.port}${path}`);
    const bytes = await sample.text();
    const contentType = sample.headers.get("Content-Type") ?? "application/json";
    await Bun.write(tmp, bytes);
    const redisKey = `${keyPrefix}:raw`;
    const redis = new Redis(REDIS_TEST_URL);
    await redis.set(redisKey, bytes);
    redis.disconnect();

    children.push(await spawnServer("l2", base));
    children.push(await spawnServer("pg", base));
    children.push(await spawnServer("naive", base));
    children.push(await spawnServer("bare", { BODY_FILE: tmp, CONTENT_TYPE: contentType }));
    children.push(await spawnServer("http", { BODY_FILE: tmp, CONTENT_TYPE: contentType }));
    children.push(
      await spawnServer("redis", {
        REDIS_URL: REDIS_TEST_URL,
        REDIS_KEY: redisKey,
        CONTENT_TYPE: contentType,
      }),
    );
    const byKind = new Map(children.map((child) => [child.kind, child]));
    const urlOf = (kind: Kind) =>
      kind === "confluent"
        ? `http://127.0.0.1:${l1.port}${confluentPath}`
        : `http://127.0.0.1:${byKind.get(kind)!.port}${path}`;

    console.log(
      `GET ${path}: ${bytes.length} bytes (${contentType}); ${WRK ? `wrk -t1 -c${connections}` : `autocannon -c ${connections}`}, ${rounds} rounds of ${seconds} s each, interleaved`,
    );
    // Warm-up: fills the caches (l2's first read loads from PostgreSQL) and the JIT of every process.
    const kinds = process.env.KINDS ? (process.env.KINDS.split(",") as Kind[]) : KINDS;
    for (const kind of kinds) await drive(urlOf(kind), 1, connections);

    const rates = Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>;
    // Microseconds of CPU per request, per round: the server process's (confluent shares l1's) and PostgreSQL's.
    const perKind = () =>
      Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>;
    const cpu = perKind();
    const dbCpu = perKind();
    const pidOf = (kind: Kind) => byKind.get(kind === "confluent" ? "l1" : kind)!.process.pid;
    for (let round = 0; round < rounds; round++) {
      for (const kind of kinds) {
        const before = processCpuSeconds(pidOf(kind));
        const dbBefore = await backendSeconds(admin, database.name);
        const rate = await drive(urlOf(kind), seconds, connections);
        const after = processCpuSeconds(pidOf(kind));
        const dbAfter = await backendSeconds(admin, database.name);
        rates[kind].push(rate);
        const requests = rate * seconds;
        if (before !== null && after !== null) cpu[kind].push(((after - before) * 1e6) / requests);
        if (dbBefore && dbAfter) dbCpu[kind].push((backendDelta(dbBefore, dbAfter) * 1e6) / requests);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log("");
    for (const kind of kinds) {
      const each = rates[kind].map((r) => Math.round(r).toLocaleString("en")).join(" / ");
      const figures = (label: string, values: number[]) =>
        values.length > 0
          ? `; ${label} CPU median ${median(values).toFixed(0)} µs/request (${values.map((us) => us.toFixed(0)).join(" / ")})`
          : "";
      const perRequest = figures("server", cpu[kind]) + figures("PostgreSQL", dbCpu[kind]);
      console.log(
        `${LABELS[kind].padEnd(30)} median ${Math.round(median(rates[kind])).toLocaleString("en").padStart(7)} req/s  (${each})${perRequest}`,
      );
    }
    const perRound = (a: Kind, b: Kind) => rates[a].map((rate, i) => rate / rates[b][i]!);
    const show = (a: Kind, b: Kind, target: number) => {
      if (!kinds.includes(a) || !kinds.includes(b)) return;
      const ratios = perRound(a, b);
      const m = median(ratios);
      console.log(
        `${a} / ${b}: median ${m.toFixed(2)}x (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")}); target ≥ ${target.toFixed(2)}x: ${m >= target ? "met" : "NOT met"}`,
      );
    };
    console.log("");
    if (kinds.includes("http") && kinds.includes("bare")) {
      const of = (a: Kind, b: Kind) => median(perRound(a, b)).toFixed(2);
      console.log(`http / bare: median ${of("http", "bare")}x (the read's HTTP work alone, no target)`);
      if (kinds.includes("l1"))
        console.log(`l1 / http: median ${of("l1", "http")}x (the registry's own cost)`);
    }
    show("l1", "bare", 0.85);
    show("l2", "redis", 1.0);
    show("confluent", "l1", 0.95);
    show("pg", "naive", 0.9);
  } finally {
    for (const child of children) child.process.kill("SIGTERM");
    await Promise.all(children.map((child) => child.process.exited));
    await admin.end({ timeout: 1 });
    await database.drop();
    await deleteByPrefix(keyPrefix);
    await Bun.file(tmp)
      .delete()
      .catch(() => {});
  }
}

const serveAt = process.argv.indexOf("--serve");
if (serveAt >= 0) await serve(process.argv[serveAt + 1] as Kind);
else await main();
