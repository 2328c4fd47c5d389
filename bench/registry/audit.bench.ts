/**
 * What the audit log costs a write, in the same run: registers and state
 * changes through the PostgreSQL repository with a WriteContext (the entry is
 * written in the write's own statement or transaction) and without one (no
 * entry), on one fresh database of the machine's PostgreSQL, rounds
 * alternating between the two. Prints each round's throughput and the median
 * ratio (audited / unaudited).
 *
 * Run: ./node_modules/.bin/bun bench/registry/audit.bench.ts
 * (BENCH_DATABASE_URL: an admin connection, default postgres://postgres@127.0.0.1:5432/postgres;
 *  WRITES per round (default 1000), ROUNDS (default 5))
 */
import postgres from "postgres";
import type { WriteContext } from "../../src/domain/audit.ts";
import { sha256Hex } from "../../src/domain/canonical.ts";
import type { SchemaRecord } from "../../src/domain/types.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { createPool } from "../../src/storage/postgres/pool.ts";
import { createPostgresStorage } from "../../src/storage/postgres/postgres-storage.ts";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const WRITES = Number(process.env.WRITES ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CONCURRENCY = 8;
const ACTOR: WriteContext = { actor: { id: "srk_bench0000000000", kind: "key" }, requestId: "bench" };

const name = `bench_audit_${crypto.randomUUID().slice(0, 8)}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const pool = createPool(url.toString(), { maxConnections: CONCURRENCY + 2 });
await migrate(pool, () => {});
const storage = createPostgresStorage(pool, { viewRefreshIntervalMs: 0, auditRetentionDays: 0 });

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
  return items.length / ((performance.now() - started) / 1000);
}

let counter = 0;
async function registers(audit: WriteContext | undefined): Promise<{ rate: number; rows: SchemaRecord[] }> {
  const rows: SchemaRecord[] = [];
  const inputs = await Promise.all(
    Array.from({ length: WRITES }, async () => {
      const n = counter++;
      const content = { type: "object", properties: { [`f${n}`]: { type: "string" } } };
      return { n, content, hash: `sha256:${await sha256Hex(JSON.stringify(content))}` };
    }),
  );
  const rate = await inParallel(inputs, async ({ n, content, hash }) => {
    const { schema } = await storage.schemas.register(
      {
        subject: `bench.audit.S${n % 200}.${n}`,
        version: "1.0.0",
        schemaType: "json",
        state: "active",
        content,
        contentText: JSON.stringify(content),
        contentHash: hash,
        contentSize: JSON.stringify(content).length,
        contentLocation: "inline",
        contentKey: null,
        metadata: {},
      },
      audit ? { audit } : {},
    );
    rows.push(schema);
  });
  return { rate, rows };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results = { register: [] as number[], state: [] as number[] };
console.log(`audit bench: ${WRITES} writes per round, ${ROUNDS} rounds, concurrency ${CONCURRENCY}`);
try {
  // One warm-up round each, untimed.
  await registers(ACTOR);
  await registers(undefined);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? [undefined, ACTOR] : [ACTOR, undefined];
    const rates: Record<string, { register: number; state: number }> = {};
    for (const audit of order) {
      const { rate, rows } = await registers(audit);
      const state = await inParallel(rows, (row) =>
        storage.schemas.updateState({ id: row.id }, "deprecated", null, audit),
      );
      rates[audit ? "audited" : "plain"] = { register: rate, state };
    }
    results.register.push(rates.audited!.register / rates.plain!.register);
    results.state.push(rates.audited!.state / rates.plain!.state);
    console.log(
      `round ${round}: register ${rates.plain!.register.toFixed(0)}/s plain, ${rates.audited!.register.toFixed(0)}/s audited; ` +
        `state change ${rates.plain!.state.toFixed(0)}/s plain, ${rates.audited!.state.toFixed(0)}/s audited`,
    );
  }
  console.log(
    `median ratio audited/plain: register ${median(results.register).toFixed(3)}, state change ${median(results.state).toFixed(3)}`,
  );
} finally {
  await storage.close();
  await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}
