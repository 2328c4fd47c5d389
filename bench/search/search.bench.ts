/**
 * Search at scale: 16 concurrent searches for 20 s over a mix of free text,
 * typos, tags, owners, subject patterns and combinations, through the
 * storage layer, on 100,000 schemas (20,000 subjects × 5 versions) seeded by
 * scripts/seed.ts. The same mix then runs, in the same run and on the same
 * database, against the search SQL the registry had before migration 005
 * (kept below as the baseline), and the ratio is printed.
 *
 *   bun bench/search/search.bench.ts [--database-url URL] [--seconds 20] [--concurrency 16]
 *
 * Without --database-url it creates and seeds a new database on the test
 * PostgreSQL (and leaves it, printing its URL, for EXPLAIN afterwards);
 * with one it uses that database as it is (seed it with scripts/seed.ts).
 * Figures are indicative: 2 shared cores, and this process shares them.
 */
import { parseArgs } from "node:util";
import type postgres from "postgres";
import {
  AREAS,
  createDatabase,
  DATASETS,
  OWNERS,
  seedDatabase,
  TAGS,
  VOCABULARY,
} from "../../scripts/seed.ts";
import type { Page, SearchHit, SearchQuery } from "../../src/domain/types.ts";
import { primaryOnly } from "../../src/storage/postgres/handles.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool, type Db } from "../../src/storage/postgres/pool.ts";
import { columnsOf, type SchemaRow, toSchemaRecord } from "../../src/storage/postgres/schema-rows.ts";
import { escapeLike, PostgresSchemaSearch } from "../../src/storage/postgres/schema-search.ts";

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

// ------------------------------------------------- the baseline: the old SQL

/** The search SQL before migration 005: pg_trgm word similarity over `search_text`, a window count. */
async function legacySearch(pool: postgres.Sql, query: SearchQuery): Promise<Page<SearchHit>> {
  const columns = columnsOf(pool);
  const q = query.q?.trim() ?? "";
  const fuzzy = q.length >= 3;
  const runSearch = async (db: Db): Promise<Page<SearchHit>> => {
    const conditions: postgres.PendingQuery<postgres.Row[]>[] = [];
    if (!query.includeDeleted) conditions.push(db`deleted_at IS NULL`);
    if (q !== "") {
      const contains = `%${escapeLike(q)}%`;
      conditions.push(fuzzy ? db`id IN (SELECT id FROM text_candidates)` : db`search_text ILIKE ${contains}`);
    }
    if (query.subject) {
      conditions.push(
        query.subject.includes("*")
          ? db`subject LIKE ${escapeLike(query.subject).replaceAll("*", "%")}`
          : db`subject = ${query.subject}`,
      );
    }
    if (query.schemaType) conditions.push(db`schema_type = ${query.schemaType}`);
    if (query.states && query.states.length > 0) conditions.push(db`state = ANY(${query.states}::text[])`);
    if (query.owner) conditions.push(db`metadata ->> 'owner' = ${query.owner}`);
    if (query.tags && query.tags.length > 0) {
      conditions.push(db`metadata @> ${db.json({ tags: query.tags })}::jsonb`);
    }
    const where = conditions.reduce((all, condition) => db`${all} AND ${condition}`, db`TRUE`);
    const score = q !== "" ? db`word_similarity(${q}, search_text)` : db`NULL::real`;
    const candidates =
      fuzzy && q !== ""
        ? db`WITH text_candidates AS MATERIALIZED (
               SELECT id FROM schemas WHERE search_text ILIKE ${`%${escapeLike(q)}%`} OR ${q} <% search_text)`
        : db``;
    const order =
      q !== ""
        ? db`score DESC, subject, version_sort DESC, global_id`
        : db`subject, version_sort DESC, global_id`;
    const rows = await db<(SchemaRow & { score: number | null; total: number })[]>`
      ${candidates}
      SELECT ${columns.listing}, ${score} AS score, count(*) OVER ()::integer AS total
      FROM schemas
      WHERE ${where}
      ORDER BY ${order}
      LIMIT ${query.limit} OFFSET ${query.offset}`;
    return {
      items: rows.map(({ total: _total, ...row }) => ({ ...toSchemaRecord(row), score: row.score })),
      limit: query.limit,
      offset: query.offset,
      total: rows[0]?.total ?? 0,
    };
  };
  if (!fuzzy) return runSearch(pool);
  return (await pool.begin(async (tx) => {
    const threshold = tx`
      SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', true),
             set_config('enable_seqscan', 'off', true)`;
    const [, page] = await Promise.all([threshold.execute(), runSearch(tx)]);
    return page;
  })) as Page<SearchHit>;
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
// Warm both (caches, prepared statements) before measuring.
await drive((q) => search.search(q), 99, 3);
await drive((q) => legacySearch(pool, q), 99, 3);
const candidate = await drive((q) => search.search(q), 1);
show("search (migration 005)", candidate);
const baseline = await drive((q) => legacySearch(pool, q), 1);
show("baseline (search before 005)", baseline);
console.log(
  `ratio: ${(candidate.perSecond / Math.max(baseline.perSecond, 1e-9)).toFixed(1)}x searches/s, ` +
    `p95 ${(baseline.p95 / Math.max(candidate.p95, 1e-9)).toFixed(1)}x lower`,
);
await closePool(pool);
