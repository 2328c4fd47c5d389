/**
 * The registry as each host serves it, started as a real process against the
 * same backends: a fresh database on the machine's PostgreSQL (migrated by
 * the test, as an operator migrates before deploying to an edge), Upstash as
 * L2 through the REST bridge onto the machine's Redis, and S3 by presigned
 * URLs on s3rver.
 *
 * - bun:       `bun src/server.ts`
 * - deno-edge: `deno run --allow-net --allow-env src/server.ts`, the
 *              permissions Deno Deploy grants and nothing more
 * - workerd:   deploy/workerd/build.ts bundles deploy/workerd/worker.ts into
 *              a git-ignored directory and encodes deploy/workerd/config.capnp
 *              with it, then `workerd serve -b deploy/workerd/dist/config.bin`
 *              (the binary from the npm package `workerd`)
 *
 * Each host gets the same settings; a host's process is stopped by its PID.
 */
import { join } from "node:path";
import postgres from "postgres";
import { buildWorker, WORKER_BINARY_CONFIG } from "../../deploy/workerd/build.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { REDIS_TEST_URL } from "../support/redis.ts";
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from "../support/s3.ts";
import { type ServerProcess, startServerProcess } from "../support/server-process.ts";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge.ts";

export const ROOT = join(import.meta.dir, "../..");
const DENO = join(ROOT, "node_modules/.bin/deno");
export const WORKERD = join(ROOT, "node_modules/.bin/workerd");
export const WORKER_CONFIG = join(ROOT, "deploy/workerd/config.capnp");
/** Starts share two cores with every other test: generous. */
const START_TIMEOUT_MS = 60_000;
/** A Redis database of its own, emptied at start: cached entries of another run's database must not be found. */
const UPSTASH_REDIS_DB = 11;

export type HostName = "bun" | "deno-edge" | "workerd";
export const HOSTS: readonly HostName[] = ["bun", "deno-edge", "workerd"];

export interface Backends {
  database: TestDatabase;
  upstash: UpstashBridge;
  s3: TestS3;
  stop(): Promise<void>;
}

export async function startBackends(): Promise<Backends> {
  const database = await createTestDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const redisUrl = `${REDIS_TEST_URL.replace(/\/\d*$/, "")}/${UPSTASH_REDIS_DB}`;
  const upstash = await startUpstashBridge(redisUrl);
  await fetch(upstash.url, {
    method: "POST",
    headers: { Authorization: `Bearer ${upstash.token}` },
    body: JSON.stringify(["FLUSHDB"]),
  });
  const s3 = await startS3({ bucket: "edge-registry" });
  return {
    database,
    upstash,
    s3,
    async stop() {
      await upstash.stop();
      await s3.stop();
      await database.drop();
    },
  };
}

/** The settings every host gets: the same registry, whatever runs it. */
export function hostEnv(backends: Backends, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: backends.database.url,
    DATABASE_MIGRATE_ON_START: "false",
    DATABASE_MAX_CONNECTIONS: "4",
    AUTH_REQUIRED: "false",
    LOG_LEVEL: "warn",
    CACHE_WARM_ON_STARTUP: "false",
    UPSTASH_REDIS_REST_URL: backends.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: backends.upstash.token,
    S3_BUCKET: backends.s3.bucket,
    S3_ENDPOINT: backends.s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    S3_MIN_SIZE_BYTES: "2048",
    S3_SWEEP_INTERVAL_SECONDS: "0",
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    MAX_SCHEMA_BYTES: String(256 * 1024),
    ...extra,
  };
}

export interface HostProcess extends ServerProcess {
  host: HostName;
}

/** Bundles the Worker (deploy/workerd/build.ts); returns how long it took, ms. */
export async function bundleWorker(): Promise<number> {
  return (await buildWorker()).ms;
}

function commandOf(host: HostName, port: number): string[] {
  switch (host) {
    case "bun":
      return [process.execPath, "src/server.ts"];
    case "deno-edge":
      return [DENO, "run", "--allow-net", "--allow-env", "src/server.ts"];
    case "workerd":
      return [
        WORKERD,
        "serve",
        "-b",
        WORKER_BINARY_CONFIG,
        `--socket-addr=http=127.0.0.1:${port}`,
        "--experimental",
      ];
  }
}

/**
 * Starts `host` on a free port and waits until `probePath` answers with a
 * status `answered` accepts (by default any below 500). The Worker must
 * already be bundled (bundleWorker).
 */
export async function startHost(
  host: HostName,
  env: Record<string, string>,
  probePath = "/health/live",
  answered: (status: number) => boolean = (status) => status < 500,
): Promise<HostProcess> {
  const server = await startServerProcess({
    name: host,
    command: (port) => commandOf(host, port),
    cwd: ROOT,
    env,
    timeoutMs: START_TIMEOUT_MS,
    probePath,
    answered,
    pollMs: host === "workerd" ? 2 : 50,
  });
  return { host, ...server };
}
