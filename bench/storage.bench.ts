/**
 * Storage bench against the machine's PostgreSQL, in a fresh database that is
 * dropped afterwards:
 *
 * 1. get-by-id through the repository beside a raw postgres.js primary-key SELECT
 *    on the same table, and register through the repository beside a bare INSERT,
 *    measured by mitata in the same run, then again in alternating rounds
 *    (median ratio, which load from other processes skews less); both ratios
 *    are printed.
 * 2. Register throughput at concurrency 16 for a fixed count, with explicit
 *    versions, and the way the registry registers: the evolution context read
 *    first, the next minor of its highest version registered against its head
 *    (again on `subject_changed`): registers/second and p50/p95/p99 latency.
 *
 * Goals (the storage design's): get-by-id at least 0.8x the raw SELECT;
 * at least 1,000 registers/s at concurrency 16 with p95 under 100 ms.
 * Figures are indicative: 2 shared cores, and the client shares them.
 *
 * Run: ./node_modules/.bin/bun bench/storage.bench.ts
 * (BENCH_DATABASE_URL: an admin connection, default postgres://postgres@127.0.0.1:5432/postgres;
 *  BENCH_REGISTERS: the throughput count, default 5000)
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import postgres from "postgres";
import type { EffectiveSettings } from "../src/domain/compatibility/index.ts";
import { isRegistryError } from "../src/domain/errors.ts";
import { parseSemVer } from "../src/domain/semver.ts";
import { migrate } from "../src/storage/postgres/migrator.ts";
import { createPool } from "../src/storage/postgres/pool.ts";
import { createPostgresStorage } from "../src/storage/postgres/postgres-storage.ts";
import type { NewSchema, RegisterOutcome } from "../src/storage/storage.ts";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REGISTERS = Number(process.env.BENCH_REGISTERS ?? 5000);
const CONCURRENCY = 16;
const SEED_ROWS = 20_000;

const name = `registry_bench_${Date.now().toString(36)}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();

const pool = createPool(url);
await migrate(pool);
const storage = createPostgresStorage(pool);
const schemas = storage.schemas;
const raw = postgres(url, { max: 50, prepare: true, onnotice: () => {} });

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A JSON Schema of about 1 KB, distinct per n. */
function content(n: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < 12; i++)
    properties[`field_${i}`] = { type: "string", description: `field ${i} of ${n}` };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Bench ${n}`,
    type: "object",
    properties,
  };
}

async function input(n: number, subject: string, version: string): Promise<NewSchema> {
  const body = content(n);
  const text = JSON.stringify(body);
  return {
    subject,
    version,
    schemaType: "json",
    state: "active",
    content: body,
    contentText: text,
    contentHash: await sha256(text),
    contentSize: text.length,
    contentLocation: "inline",
    contentKey: null,
    metadata: {
      description: `Bench schema ${n} for the chat completion path`,
      tags: ["bench", "llm"],
      owner: "perf",
    },
  };
}

/**
 * Throughput of `candidate` relative to `baseline` (time of baseline / time of
 * candidate) over short alternating rounds, median of the rounds: other work on
 * a shared machine hits both sides alike instead of whichever mitata ran second.
 */
async function interleavedRatio(
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
  rounds = 21,
  perRound = 150,
): Promise<number> {
  const time = async (op: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await op();
    return performance.now() - t0;
  };
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const b = await time(baseline);
      ratios.push(b / (await time(candidate)));
    } else {
      const c = await time(candidate);
      ratios.push((await time(baseline)) / c);
    }
  }
  return ratios.sort((x, y) => x - y)[Math.floor(rounds / 2)]!;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

try {
  // ---- seed: a table that is not trivially small ------------------------------------------------
  await raw`
    INSERT INTO schemas (subject, version, version_key, version_sort, schema_type, state, content,
                         content_hash, content_size, content_location, metadata)
    SELECT 'seed.s' || (g % 2000), '1.' || (g / 2000) || '.0', '1.' || (g / 2000) || '.0',
           '0011.' || lpad(length((g / 2000)::text)::text, 3, '0') || (g / 2000) || '.0010~',
           'json', 'active', jsonb_build_object('type', 'object', 'n', g),
           'sha256:' || encode(sha256(g::text::bytea), 'hex'), 40, 'inline',
           jsonb_build_object('description', 'seed ' || g, 'tags', jsonb_build_array('seed'))
    FROM generate_series(1, ${SEED_ROWS}) AS g`;
  await raw`ANALYZE schemas`;
  const ids = (await raw<{ id: string }[]>`SELECT id FROM schemas ORDER BY random() LIMIT 1000`).map(
    (r) => r.id,
  );
  let cursor = 0;
  const nextId = () => {
    cursor = (cursor + 1) % ids.length;
    return ids[cursor]!;
  };

  // ---- 1. beside the raw driver, in one mitata run -------------------------------------------------
  const insertInputs = await Promise.all(
    Array.from({ length: 2000 }, (_, i) => input(1_000_000 + i, "x", "1.0.0")),
  );
  let serial = 0;

  const rawSelect = async () => do_not_optimize(await raw`SELECT * FROM schemas WHERE id = ${nextId()}`);
  const getById = async () => do_not_optimize(await schemas.getById({ id: nextId() }));
  const rawInsert = async () => {
    const n = serial++;
    const i = insertInputs[n % insertInputs.length]!;
    await raw`
      INSERT INTO schemas (subject, version, version_key, version_sort, schema_type, state, content,
                           content_text, content_hash, content_size, content_location, content_key, metadata)
      VALUES (${`raw.s${n}`}, '1.0.0', '1.0.0', '0011.0010.0010~', 'json', 'active',
              ${raw.json(i.content as postgres.JSONValue)}, ${i.contentText}, ${i.contentHash}, ${i.contentSize},
              'inline', NULL, ${raw.json(i.metadata as postgres.JSONValue)})`;
  };
  const register = async () => {
    const n = serial++;
    const i = insertInputs[n % insertInputs.length]!;
    await schemas.register({ ...i, subject: `reg.s${n}`, version: "1.0.0" });
  };

  summary(() => {
    bench("raw SELECT * by primary key", rawSelect);
    bench("schemas.getById", getById);
  });
  summary(() => {
    bench("raw INSERT", rawInsert);
    bench("schemas.register", register);
  });

  const result = await run();
  const avg = (alias: string) => {
    const found = result.benchmarks.find((b) => b.alias === alias);
    return found?.runs[0]?.stats?.avg ?? Number.NaN;
  };
  const selectNs = avg("raw SELECT * by primary key");
  const getNs = avg("schemas.getById");
  const insertNs = avg("raw INSERT");
  const registerNs = avg("schemas.register");
  const getRatio = await interleavedRatio(rawSelect, getById);
  const registerRatio = await interleavedRatio(rawInsert, register, 11, 100);
  console.log("\nratios: throughput of the repository relative to the raw driver, same run");
  console.log("  (mitata: each measured in turn; interleaved: median of alternating rounds)");
  console.log(
    `  get-by-id: mitata ${(selectNs / getNs).toFixed(2)}x, interleaved ${getRatio.toFixed(2)}x the raw SELECT ` +
      `(goal >= 0.80x; ${(getNs / 1000).toFixed(1)} us vs ${(selectNs / 1000).toFixed(1)} us)`,
  );
  console.log(
    `  register : mitata ${(insertNs / registerNs).toFixed(2)}x, interleaved ${registerRatio.toFixed(2)}x the bare INSERT ` +
      `(${(registerNs / 1000).toFixed(1)} us vs ${(insertNs / 1000).toFixed(1)} us; register adds the subject lock, ` +
      "the idempotency, head and version checks and the history row)",
  );

  const defaults: EffectiveSettings = { compatibility: "BACKWARD", semverPolicy: "advise" };
  let retries = 0;
  /** The registry's write path at the storage level, without the compatibility check itself. */
  const guarded = async (row: NewSchema): Promise<RegisterOutcome> => {
    for (;;) {
      const context = await schemas.evolutionContext(row.subject, row.contentHash, defaults);
      if (context.existing) return { schema: context.existing, created: false };
      const highest = context.highestVersion === null ? null : parseSemVer(context.highestVersion);
      const version = highest ? `${highest.major}.${highest.minor + 1n}.0` : "1.0.0";
      try {
        return await schemas.register({ ...row, version }, { expectedHead: context.head });
      } catch (error) {
        if (!isRegistryError(error) || error.details.reason !== "subject_changed") throw error;
        retries++;
      }
    }
  };

  // ---- 2. register throughput at concurrency 16 ---------------------------------------------------
  for (const mode of ["explicit version", "context, then register at its head"] as const) {
    const explicit = mode === "explicit version";
    const inputs = await Promise.all(
      Array.from({ length: REGISTERS }, (_, i) => {
        // 1,000 subjects, several versions each: registers of one subject do meet.
        const subject = `load.${explicit ? "e" : "h"}.s${i % 1000}`;
        return input(2_000_000 + i + (explicit ? 0 : REGISTERS), subject, `2.${Math.floor(i / 1000)}.0`);
      }),
    );
    retries = 0;
    const latencies = new Float64Array(REGISTERS);
    let next = 0;
    let created = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REGISTERS) {
          const i = next++;
          const t0 = performance.now();
          const outcome = explicit ? await schemas.register(inputs[i]!) : await guarded(inputs[i]!);
          latencies[i] = performance.now() - t0;
          if (outcome.created) created++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort();
    console.log(
      `\nregister throughput, ${mode}, concurrency ${CONCURRENCY}, ${REGISTERS} registers (${created} created): ` +
        `${Math.round(REGISTERS / seconds)} registers/s; latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
        `(goal >= 1000/s, p95 < 100 ms)${explicit ? "" : `; ${retries} subject_changed retries`}`,
    );
  }
} finally {
  await raw.end();
  await storage.close();
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
