/**
 * Fills a registry's database with realistic JSON schemas, fast:
 *
 *   bun scripts/seed.ts [--dataset 100k|1m] [--count N --subjects N] [--database-url URL] [--seed N]
 *
 * Without --database-url it creates a new database on the test PostgreSQL
 * (postgres://postgres@127.0.0.1:5432) and prints its URL. It applies the
 * registry's migrations with the registry's own migrator, then inserts rows
 * in batches through the registry's tables: the content's row in
 * `schema_contents` (the Confluent id), the schema with every column a
 * register writes (content hash over the canonical text, content as sent,
 * version key and sort key from the domain's semver parser, subject version),
 * its first history entry, and the search rows the triggers would derive
 * (filled in one statement at the end when the triggers are skipped, which
 * needs a superuser; run it while no registry writes to the database).
 * Subjects look like `com.acme.<area>.<Name>`; every schema has an 8-word
 * description drawn from a vocabulary, two tags, an owner and custom metadata.
 * It prints rows per second. `seedDatabase` is what benchmarks call.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { canonicalJson } from "../src/domain/canonical.ts";
import { parseSemVer, versionKey, versionSortKey } from "../src/domain/semver.ts";
import { migrate } from "../src/storage/postgres/migrator.ts";

export const AREAS = [
  "billing",
  "orders",
  "customers",
  "payments",
  "shipping",
  "inventory",
  "identity",
  "chat",
  "embeddings",
  "retrieval",
  "analytics",
  "notifications",
  "catalog",
  "pricing",
  "support",
  "moderation",
] as const;

const NOUNS = [
  "Customer",
  "Invoice",
  "Payment",
  "Order",
  "Shipment",
  "Refund",
  "Subscription",
  "Account",
  "Session",
  "Completion",
  "Embedding",
  "Document",
  "Product",
  "Price",
  "Ticket",
  "Message",
  "Vector",
  "Query",
  "Report",
  "Policy",
];
const SUFFIXES = ["Created", "Updated", "Deleted", "Request", "Response", "Event", "Record", "Snapshot"];

/** The description vocabulary: words people type into a search box. */
export const VOCABULARY = (
  "customer billing invoice payment order shipment refund subscription account session completion " +
  "embedding document product price ticket message vector query report policy retrieval ranking " +
  "search index latency throughput tenant region currency tax discount coupon cart checkout " +
  "warehouse stock carrier tracking delivery address email phone consent audit compliance fraud " +
  "risk score model prompt token stream chunk batch export import sync webhook callback retry " +
  "error status lifecycle version schema record event snapshot change history summary metric " +
  "usage quota limit plan trial renewal cancellation dispute chargeback ledger balance transfer " +
  "settlement payout merchant vendor supplier catalog category attribute variant bundle review " +
  "rating feedback notification alert reminder campaign segment cohort funnel conversion session " +
  "identity login password credential permission role group member organization workspace project"
).split(" ");

export const TAGS = [
  "pii",
  "gdpr",
  "finance",
  "internal",
  "public",
  "beta",
  "deprecated-soon",
  "streaming",
  "batch",
  "llm",
  "analytics",
  "audit",
  "core",
  "experimental",
  "partner",
  "mobile",
  "web",
  "backend",
  "realtime",
  "archive",
];

export const OWNERS = [
  "platform-team",
  "billing-team",
  "payments",
  "growth",
  "ml-infra",
  "search-team",
  "trust-safety",
  "data-eng",
  "checkout",
  "logistics",
  "support-tools",
  "identity-team",
];

export const DATASETS = {
  "100k": { count: 100_000, subjects: 20_000 },
  "1m": { count: 1_000_000, subjects: 200_000 },
} as const;

export interface SeedOptions {
  count: number;
  subjects: number;
  seed?: number;
  /** Rows per INSERT statement. Default 2,000. */
  batchSize?: number;
  log?: (message: string) => void;
}

export interface SeedResult {
  rows: number;
  subjects: number;
  seconds: number;
  rowsPerSecond: number;
}

/** mulberry32: the same data for the same seed. */
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

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** The subject of index `i`: `com.acme.<area>.<Noun><Suffix>`, unique by a number past the first round. */
export function subjectName(i: number): string {
  const area = AREAS[i % AREAS.length]!;
  const noun = NOUNS[Math.floor(i / AREAS.length) % NOUNS.length]!;
  const suffix = SUFFIXES[Math.floor(i / (AREAS.length * NOUNS.length)) % SUFFIXES.length]!;
  const round = Math.floor(i / (AREAS.length * NOUNS.length * SUFFIXES.length));
  return `com.acme.${area}.${noun}${suffix}${round === 0 ? "" : round}`;
}

const FIELD_TYPES = [
  { type: "string", maxLength: 256 },
  { type: "integer", minimum: 0 },
  { type: "number" },
  { type: "boolean" },
  { type: "string", format: "date-time" },
  { type: "array", items: { type: "string" } },
];

function contentFor(subject: string, fields: number, revision: number, rng: () => number): unknown {
  const properties: Record<string, unknown> = { id: { type: "string", format: "uuid" } };
  for (let f = 0; f < fields + revision; f++) {
    properties[`${pick(rng, VOCABULARY)}_${f}`] = {
      ...(f < fields ? FIELD_TYPES[f % FIELD_TYPES.length] : { type: "string" }),
      description: `${pick(rng, VOCABULARY)} ${pick(rng, VOCABULARY)}`,
    };
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://schemas.acme.com/${subject}/${revision}`,
    type: "object",
    properties,
    required: ["id"],
  };
}

interface Batch {
  subject: string[];
  version: string[];
  versionKey: string[];
  versionSort: string[];
  state: string[];
  content: string[];
  contentText: string[];
  contentHash: string[];
  contentSize: number[];
  metadata: string[];
  subjectVersion: number[];
  createdAt: string[];
}

const emptyBatch = (): Batch => ({
  subject: [],
  version: [],
  versionKey: [],
  versionSort: [],
  state: [],
  content: [],
  contentText: [],
  contentHash: [],
  contentSize: [],
  metadata: [],
  subjectVersion: [],
  createdAt: [],
});

/**
 * Inserts `count` schemas over `subjects` subjects (the versions spread evenly)
 * into a migrated database. Subjects already there would clash: seed an empty one.
 */
export async function seedDatabase(sql: postgres.Sql, options: SeedOptions): Promise<SeedResult> {
  const rng = random(options.seed ?? 1);
  const batchSize = options.batchSize ?? 2000;
  const started = performance.now();
  const epoch = Date.now() - 365 * 24 * 3600 * 1000;
  let batch = emptyBatch();
  let rows = 0;
  // The search triggers of migration 008 work a row at a time, as a register
  // needs; a bulk load skips them (session_replication_role, which only a
  // superuser may set) and fills the search table and its vocabulary in one
  // statement each at the end, as migration 005's backfill did.
  const [{ superuser }] = (await sql`
    SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`) as unknown as [
    { superuser: boolean },
  ];
  const skipTriggers = superuser;
  const flush = async () => {
    if (batch.subject.length === 0) return;
    const b = batch;
    batch = emptyBatch();
    // One statement per batch: the content ids, the rows, their first history entries.
    const insert = (db: postgres.Sql | postgres.TransactionSql) => db`
      WITH input AS (
        SELECT * FROM unnest(
          ${b.subject}::text[], ${b.version}::text[], ${b.versionKey}::text[], ${b.versionSort}::text[],
          ${b.state}::text[], ${b.content}::text[], ${b.contentText}::text[], ${b.contentHash}::text[],
          ${b.contentSize}::integer[], ${b.metadata}::text[], ${b.subjectVersion}::integer[],
          ${b.createdAt}::timestamptz[]
        ) AS t(subject, version, version_key, version_sort, state, content, content_text, content_hash,
               content_size, metadata, subject_version, created_at)
      ), numbered AS MATERIALIZED (
        -- Content ids drawn here, so the two inserts need no join to find each other's rows.
        SELECT input.*, nextval('schema_contents_id_seq') AS content_id FROM input
      ), contents AS (
        INSERT INTO schema_contents (id, schema_type, content_hash, references_key, guid)
        SELECT content_id, 'json', content_hash, '', registry_content_guid('json', content_hash, '')
        FROM numbered
      ), inserted AS (
        INSERT INTO schemas (subject, version, version_key, version_sort, schema_type, state, content,
                             content_text, content_hash, content_size, content_location, metadata,
                             content_id, subject_version, created_at, updated_at)
        SELECT subject, version, version_key, version_sort, 'json', state, content::jsonb,
               content_text, content_hash, content_size, 'inline', metadata::jsonb,
               content_id, subject_version, created_at, created_at
        FROM numbered
        RETURNING id, state, created_at
      )
      INSERT INTO schema_state_history (schema_id, from_state, to_state, changed_at)
      SELECT id, NULL, state, created_at FROM inserted`;
    // Without the row triggers (a superuser's session only): the search rows are filled set-based at the end.
    if (skipTriggers) {
      await sql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await insert(tx);
      });
    } else {
      await insert(sql);
    }
    rows += b.subject.length;
  };

  // Into empty tables, secondary indexes are built once at the end instead of
  // maintained row by row. Their definitions are read from the catalog, so
  // they come back exactly as the migrations made them.
  const deferred = await deferrableIndexes(sql);
  for (const index of deferred) await sql.unsafe(`DROP INDEX ${index.name}`);

  const perSubject = Math.max(1, Math.floor(options.count / options.subjects));
  let remaining = options.count;
  let pending: Promise<void> = Promise.resolve();
  for (let s = 0; s < options.subjects && remaining > 0; s++) {
    const subject = subjectName(s);
    const versions = s === options.subjects - 1 ? remaining : Math.min(perSubject, remaining);
    const area = AREAS[s % AREAS.length]!;
    const fields = 3 + Math.floor(rng() * 6);
    const owner = pick(rng, OWNERS);
    const tag1 = pick(rng, TAGS);
    let tag2 = pick(rng, TAGS);
    while (tag2 === tag1) tag2 = pick(rng, TAGS);
    for (let v = 0; v < versions; v++) {
      const version = `1.${v}.0`;
      const semver = parseSemVer(version)!;
      const content = contentFor(subject, fields, v, rng);
      const canonical = canonicalJson(content);
      const text = JSON.stringify(content);
      const words = Array.from({ length: 8 }, () => pick(rng, VOCABULARY)).join(" ");
      const metadata = {
        description: `${words[0]!.toUpperCase()}${words.slice(1)}`,
        tags: [tag1, tag2],
        owner,
        custom: { area, tier: 1 + (s % 3), pii: tag1 === "pii" || tag2 === "pii" },
      };
      batch.subject.push(subject);
      batch.version.push(version);
      batch.versionKey.push(versionKey(semver));
      batch.versionSort.push(versionSortKey(semver));
      // Older versions of a subject are mostly deprecated; a few newest ones are drafts.
      batch.state.push(
        v < versions - 2 ? "deprecated" : v === versions - 1 && rng() < 0.05 ? "draft" : "active",
      );
      batch.content.push(canonical);
      batch.contentText.push(text);
      batch.contentHash.push(`sha256:${createHash("sha256").update(canonical).digest("hex")}`);
      batch.contentSize.push(Buffer.byteLength(text));
      batch.metadata.push(JSON.stringify(metadata));
      batch.subjectVersion.push(v + 1);
      batch.createdAt.push(new Date(epoch + (s * perSubject + v) * 300_000).toISOString());
      remaining--;
      if (batch.subject.length >= batchSize) {
        // One batch in flight while the next is generated: the database and
        // this process work at the same time.
        await pending;
        pending = flush();
        options.log?.(`${rows} rows`);
      }
    }
  }
  await pending;
  await flush();
  if (skipTriggers) {
    await sql`
      INSERT INTO schema_search (schema_id, global_id, subject, version_sort, created_at, schema_type, state, live,
                                 owner, tags, document)
      SELECT s.id, s.global_id, s.subject, s.version_sort, s.created_at, s.schema_type, s.state,
             s.deleted_at IS NULL, s.metadata ->> 'owner', registry_metadata_tags(s.metadata),
             registry_search_document(s.subject, s.metadata)
      FROM schemas AS s
      WHERE NOT EXISTS (SELECT 1 FROM schema_search AS d WHERE d.schema_id = s.id)`;
    await sql`
      INSERT INTO search_words (word)
      SELECT DISTINCT w.lexeme FROM schema_search AS d, unnest(d.document) AS w WHERE w.positions IS NOT NULL
      ON CONFLICT (word) DO NOTHING`;
  }
  await sql`SET maintenance_work_mem = '256MB'`;
  for (const index of deferred) await sql.unsafe(index.definition);
  await sql`RESET maintenance_work_mem`;
  // Statistics for the planner, and the visibility map index-only scans rely on.
  await sql`VACUUM ANALYZE`;
  const seconds = (performance.now() - started) / 1000;
  return {
    rows,
    subjects: Math.min(options.subjects, options.count),
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
  };
}

/**
 * The indexes of the seeded tables that back no constraint, when those tables
 * are empty (else none): building each once at the end is several times
 * cheaper than maintaining it row by row (trigram and full-text ones above all).
 */
async function deferrableIndexes(sql: postgres.Sql): Promise<{ name: string; definition: string }[]> {
  const [{ empty }] = (await sql`SELECT NOT EXISTS (SELECT 1 FROM schemas) AS empty`) as unknown as [
    { empty: boolean },
  ];
  if (!empty) return [];
  return [
    ...(await sql<{ name: string; definition: string }[]>`
      SELECT quote_ident(i.indexname) AS name, i.indexdef AS definition
      FROM pg_indexes AS i
      WHERE i.schemaname = current_schema()
        AND i.tablename IN ('schemas', 'schema_search', 'search_words', 'schema_state_history')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                        WHERE c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname)))`),
  ];
}

/** Creates a new database on the server of `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name.replaceAll('"', "")}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Migrates the database at `url` and seeds it. */
export async function seedUrl(url: string, options: SeedOptions): Promise<SeedResult> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
    return await seedDatabase(sql, options);
  } finally {
    await sql.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: "string" },
      count: { type: "string" },
      subjects: { type: "string" },
      "database-url": { type: "string" },
      seed: { type: "string", default: "1" },
    },
  });
  const preset = values.dataset ? DATASETS[values.dataset as keyof typeof DATASETS] : DATASETS["100k"];
  if (!preset) throw new Error(`--dataset is one of ${Object.keys(DATASETS).join(", ")}`);
  const count = values.count ? Number(values.count) : preset.count;
  const subjects = values.subjects ? Number(values.subjects) : Math.max(1, Math.round(count / 5));
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(subjects) || subjects < 1) {
    throw new Error("--count and --subjects are positive integers");
  }
  const url =
    values["database-url"] ??
    (await createDatabase("postgres://postgres@127.0.0.1:5432/postgres", `registry_seed_${Date.now()}`));
  console.log(`seeding ${count} schemas over ${subjects} subjects into ${url}`);
  const result = await seedUrl(url, { count, subjects, seed: Number(values.seed), log: () => {} });
  console.log(
    `${result.rows} rows in ${result.seconds.toFixed(1)} s: ${result.rowsPerSecond} rows/s (${url})`,
  );
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
