/**
 * The system under fuzzing: `bun src/server.ts` as a child process (the way a
 * user runs it, runtime driver and all) on a fresh database of the machine's
 * PostgreSQL and an s3rver object store, with content of 4 KiB or more sent
 * to the store so that hostile registers cross both halves of the write path.
 *
 * `snapshot()` is the partial-write oracle's eye: one fingerprint per table
 * of the registry (every row, hashed in the database) and the object store's
 * keys with their sizes and ETags. The access log is left out on purpose:
 * successful reads add to it, flushed in the background, and it records
 * reads, not stored data. Sequences are left out too: PostgreSQL never rolls
 * them back, so a refused register may have used a global_id, which the API
 * documents as never reused rather than gapless.
 */
import postgres from "postgres";
import { type RegistryProcess, startRegistryProcess } from "../clients/registry-process.ts";
import { S3RVER_CREDENTIALS, s3Env, startS3, type TestS3 } from "./s3.ts";

/** Content this large or larger goes to the object store during fuzzing. */
export const FUZZ_S3_MIN_SIZE_BYTES = 4096;

/** Tables that hold what the registry stores; the access log and migrations bookkeeping are not among them. */
const IGNORED_TABLES = new Set(["schema_access_log", "schema_migrations"]);

export interface Snapshot {
  /** Table name → `count:md5` of its rows as text, in a stable order. */
  tables: Record<string, string>;
  /** Object key → `size:etag`. */
  objects: Record<string, string>;
}

export interface FuzzServer {
  url: string;
  s3: TestS3;
  process: RegistryProcess;
  snapshot(): Promise<Snapshot>;
  /** Whether the server still answers /health/live (within 5 s). */
  alive(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startFuzzServer(env: Record<string, string> = {}): Promise<FuzzServer> {
  const s3 = await startS3({ bucket: "registry-fuzz" });
  let registry: RegistryProcess;
  try {
    registry = await startRegistryProcess({
      ...s3Env(s3, {
        S3_MIN_SIZE_BYTES: String(FUZZ_S3_MIN_SIZE_BYTES),
        MAX_SCHEMA_BYTES: String(4 * 1024 * 1024),
      }),
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      // Room for the fuzzer's concurrency: an admission refusal (503) is the bound working, not a finding.
      DATABASE_MAX_CONNECTIONS: "10",
      SEARCH_QUEUE: "256",
      WRITE_QUEUE: "256",
      QUEUE_TIMEOUT_MS: "20000",
      ...env,
    });
  } catch (error) {
    await s3.stop();
    throw error;
  }
  const sql = postgres(registry.database.url, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  let tables: string[] | undefined;

  const snapshot = async (): Promise<Snapshot> => {
    tables ??= (
      await sql<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`
    )
      .map((row) => row.name)
      .filter((name) => !IGNORED_TABLES.has(name));
    // One statement for every table, so the fingerprint is of one moment.
    const parts = tables.map(
      (name) =>
        `SELECT '${name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS print FROM "${name}" t`,
    );
    const rows = await sql.unsafe<{ name: string; print: string }[]>(parts.join(" UNION ALL "));
    const objects: Record<string, string> = {};
    for await (const object of s3.store.list("")) objects[object.key] = `${object.size}:${object.etag ?? ""}`;
    return { tables: Object.fromEntries(rows.map((row) => [row.name, row.print])), objects };
  };

  return {
    url: registry.url,
    s3,
    process: registry,
    snapshot,
    async alive() {
      const live = await fetch(`${registry.url}/health/live`, { signal: AbortSignal.timeout(5000) }).catch(
        () => null,
      );
      return live?.status === 200;
    },
    async stop() {
      await sql.end({ timeout: 1 });
      await registry.stop();
      await s3.stop();
    },
  };
}

/** What differs between two snapshots, in words; empty when nothing does. */
export function snapshotDifferences(before: Snapshot, after: Snapshot): string[] {
  const differences: string[] = [];
  for (const name of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    if (before.tables[name] !== after.tables[name]) {
      differences.push(`table ${name}: ${before.tables[name]} → ${after.tables[name]}`);
    }
  }
  for (const key of new Set([...Object.keys(before.objects), ...Object.keys(after.objects)])) {
    if (before.objects[key] !== after.objects[key]) {
      differences.push(
        `object ${key}: ${before.objects[key] ?? "absent"} → ${after.objects[key] ?? "absent"}`,
      );
    }
  }
  return differences;
}
