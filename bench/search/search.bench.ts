/**
 * Search at scale: 16 concurrent searches for 20 s over a mix of free text,
 * typos, tags, owners, subject patterns and combinations, through the
 * storage layer, on 100,000 schemas (20,000 subjects × 5 versions) seeded by
 * scripts/seed.ts. The same mix (the same queries) then runs in the same run
 * through HTTP, `GET /api/v1/search` of the registry in a child process
 * (src/server.ts with Redis), which is where the target applies: at least
 * 500 searches/s, p95 under 200 ms, no errors. (The search SQL of before
 * migration 005, the previous baseline here, reads `schemas.search_text`,
 * which migration 008 no longer maintains.)
 *
 *   bun bench/search/search.bench.ts [--database-url URL] [--seconds 20] [--concurrency 16]
 *
 * Without --database-url it creates and seeds a new database on the test
 * PostgreSQL (and leaves it, printing its URL, for EXPLAIN afterwards);
 * with one it uses that database as it is (seed it with scripts/seed.ts).
 * Figures are indicative: 2 shared cores, and this process shares them.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../../scripts/lib/free-port.ts";
import {
  AREAS,
  createDatabase,
  DATASETS,
  OWNERS,
  seedDatabase,
  TAGS,
  VOCABULARY,
} from "../../scripts/seed.ts";
import type { SearchQuery } from "../../src/domain/types.ts";
import { primaryOnly } from "../../src/storage/postgres/handles.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../../src/storage/postgres/pool.ts";
import { columnsOf } from "../../src/storage/postgres/schema-rows.ts";
import { PostgresSchemaSearch } from "../../src/storage/postgres/schema-search.ts";

const { values } = parseArgs({
  options: {
    "database-url": { type: "string" },
    seconds: { type: "string", default: "20" },
    concurrency: { type: "string", default: "16" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

// ------------------------------------------------------------ the mix

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two neighbouring letters swapped: the typo people make most. */
function typo(word: string, rng: () => number): string {
  const i = 1 + Math.floor(rng() * (word.length - 3));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

type Kind = "text" | "typo" | "tag" | "owner" | "pattern" | "combined";
const KINDS: Kind[] = ["text", "typo", "tag", "owner", "pattern", "combined"];
const NAMES = ["Customer", "Invoice", "Payment", "Order", "Completion", "Embedding", "Ticket", "Document"];

function queryOf(kind: Kind, rng: () => number): SearchQuery {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rng() * items.length)]!;
  const base: SearchQuery = { limit: 20, offset: 0, sort: { field: "relevance", descending: true } };
  switch (kind) {
    case "text":
      return { ...base, q: rng() < 0.5 ? pick(VOCABULARY) : `${pick(VOCABULARY)} ${pick(VOCABULARY)}` };
    case "typo":
      return { ...base, q: typo(pick(VOCABULARY.filter((w) => w.length >= 6)), rng) };
    case "tag":
      return { ...base, tags: [pick(TAGS)] };
    case "owner":
      return { ...base, owner: pick(OWNERS) };
    case "pattern":
      return {
        ...base,
        subject: rng() < 0.5 ? `com.acme.${pick(AREAS)}.*` : `com.acme.*.${pick(NAMES)}*`,
      };
    case "combined":
      return { ...base, q: pick(VOCABULARY), owner: pick(OWNERS), tags: [pick(TAGS)] };
  }
}

// ------------------------------------------------- the same through HTTP

/** The query as `GET /api/v1/search` takes it; without q, in subject order as the storage layer's relevance is. */
function searchPath(query: SearchQuery): string {
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.q) params.set("q", query.q);
  else params.set("sort", "subject");
  if (query.tags && query.tags.length > 0) params.set("tags", query.tags.join(","));
  if (query.owner) params.set("owner", query.owner);
  if (query.subject) params.set("subject", query.subject);
  return `/api/v1/search?${params}`;
}

/** The registry as src/server.ts serves it, in a child process on a free port, on `databaseUrl` (with Redis). */
async function startRegistry(databaseUrl: string): Promise<{ base: string; stop(): void }> {
  const port = freePort();
  const child = spawn(process.execPath, ["src/server.ts"], {
    cwd: join(import.meta.dir, "../.."),
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      AUTH_REQUIRED: "false",
      LOG_LEVEL: "warn",
      CACHE_WARM_ON_STARTUP: "false",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health/ready`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (i > 300) throw new Error("the registry did not become ready");
    await Bun.sleep(100);
  }
  return { base, stop: () => child.kill("SIGTERM") };
}

async function httpSearch(base: string, query: SearchQuery): Promise<void> {
  const response = await fetch(`${base}${searchPath(query)}`);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET /api/v1/search answered ${response.status}`);
}

// ------------------------------------------------------------ the run

interface Figures {
  searches: number;
  errors: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  byKind: Record<Kind, { n: number; p50: number; p95: number }>;
  firstError: string | null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function drive(
  search: (query: SearchQuery) => Promise<unknown>,
  seed: number,
  durationS = seconds,
): Promise<Figures> {
  const latencies: number[] = [];
  const byKind = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  let errors = 0;
  let firstError: string | null = null;
  const until = performance.now() + durationS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const rng = random(seed * 1000 + worker);
      for (let i = 0; performance.now() < until; i++) {
        const kind = KINDS[(worker + i) % KINDS.length]!;
        const query = queryOf(kind, rng);
        const t = performance.now();
        try {
          await search(query);
          const ms = performance.now() - t;
          latencies.push(ms);
          byKind[kind].push(ms);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    searches: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    byKind: Object.fromEntries(
      KINDS.map((k) => {
        const sorted = byKind[k].sort((a, b) => a - b);
        return [k, { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }];
      }),
    ) as Figures["byKind"],
    firstError,
  };
}

function show(name: string, f: Figures): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(
    `${name}: ${f.perSecond.toFixed(0)} searches/s, p50 ${ms(f.p50)}, p95 ${ms(f.p95)}, p99 ${ms(f.p99)}, ` +
      `${f.errors} errors${f.firstError ? ` (first: ${f.firstError})` : ""}`,
  );
  for (const kind of KINDS) {
    const k = f.byKind[kind];
    console.log(`  ${kind.padEnd(9)} n=${String(k.n).padStart(6)}  p50 ${ms(k.p50)}  p95 ${ms(k.p95)}`);
  }
}

let url = values["database-url"];
if (!url) {
  url = await createDatabase("postgres://postgres@127.0.0.1:5432/postgres", `search_bench_${Date.now()}`);
  const seeding = createPool(url, { maxConnections: 1, statementTimeoutMs: 0 });
  await migrate(seeding);
  const seeded = await seedDatabase(seeding, DATASETS["100k"]);
  console.log(
    `seeded ${seeded.rows} schemas in ${seeded.seconds.toFixed(1)} s (${seeded.rowsPerSecond} rows/s)`,
  );
  await closePool(seeding);
}
console.log(`database ${url}; ${concurrency} concurrent, ${seconds} s per phase`);

// The registry's own pool settings (3 s statement timeout), sized for the concurrency.
const pool = createPool(url, { maxConnections: concurrency });
await migrate(pool);
const search = new PostgresSchemaSearch(primaryOnly(pool), { columns: columnsOf(pool) });
const registry = await startRegistry(url);
try {
  // Warm both (caches, prepared statements, the server's JIT) before measuring.
  await drive((q) => search.search(q), 99, 3);
  await drive((q) => httpSearch(registry.base, q), 99, 3);
  const storage = await drive((q) => search.search(q), 1);
  show("storage layer (PostgresSchemaSearch)", storage);
  // The same queries (same seed) through the server: validation, admission, the query-result cache, JSON.
  const through = await drive((q) => httpSearch(registry.base, q), 1);
  show("through HTTP (GET /api/v1/search, registry in a child process)", through);
  const met = through.perSecond >= 500 && through.p95 < 200 && through.errors === 0;
  console.log(
    `HTTP / storage layer: ${(through.perSecond / Math.max(storage.perSecond, 1e-9)).toFixed(2)}x searches/s; ` +
      `target through HTTP (>= 500/s, p95 < 200 ms, no errors): ${met ? "met" : "NOT met"}`,
  );
} finally {
  registry.stop();
  await closePool(pool);
}
