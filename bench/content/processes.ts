/**
 * The processes the content benches measure, each in a process of its own so
 * that the client measuring them shares no event loop with them: s3rver (the
 * test suite's, with its SigV4 checks) and the real registry server
 * (`bun src/server.ts`) configured the way an operator would, on a fresh
 * database of the machine's PostgreSQL, with S3 credentials in the standard
 * AWS variables. Also reads a process's memory from /proc (Linux).
 *
 *   bun bench/content/processes.ts --role store   (what startStoreProcess runs)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { freePort } from "../../scripts/lib/free-port.ts";
import type { S3Config } from "../../src/content/config.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { S3RVER_CREDENTIALS, startS3 } from "../../test/support/s3.ts";

export const MiB = 1024 * 1024;

export interface StoreProcess {
  config: S3Config;
  stop(): void;
}

export interface RegistryProcess {
  url: string;
  pid: number;
  /** Its database: another registry process may be started on it. */
  databaseUrl: string;
  /** Stops the server; drops the database when this process created it. */
  stop(): Promise<void>;
}

/** s3rver in a child process; resolves once it serves. */
export async function startStoreProcess(): Promise<StoreProcess> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--role", "store"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const config = JSON.parse(await firstLine(child.stdout, (line) => line.startsWith("{"))) as S3Config;
  return { config, stop: () => child.kill() };
}

/**
 * `bun src/server.ts` on a free port and a fresh database (or `databaseUrl`),
 * its object store the given s3rver; resolves once it logs that it listens.
 * `env` adds or overrides settings.
 */
export async function startRegistryProcess(
  store: S3Config,
  env: Record<string, string> = {},
  databaseUrl?: string,
): Promise<RegistryProcess> {
  const database: TestDatabase | null = databaseUrl === undefined ? await createTestDatabase() : null;
  const url = database?.url ?? databaseUrl!;
  const port = freePort();
  const child = Bun.spawn([process.execPath, "src/server.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      LOG_LEVEL: "info",
      DATABASE_URL: url,
      AUTH_REQUIRED: "false",
      S3_BUCKET: store.bucket,
      S3_ENDPOINT: store.endpoint ?? "",
      S3_FORCE_PATH_STYLE: "true",
      S3_SWEEP_INTERVAL_SECONDS: "0",
      CACHE_WARM_ON_STARTUP: "false",
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      ...env,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    await firstLine(child.stdout, (line) => line.includes("listening on"));
  } catch (error) {
    child.kill();
    await database?.drop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    databaseUrl: url,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
      await database?.drop();
    },
  };
}

export interface MemoryFigures {
  /** Resident set size now. */
  rss: number;
  /** Peak resident set size since the process started, or since `resetPeak`. */
  peak: number;
}

export function memoryOf(pid: number): MemoryFigures {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") * 1024, peak: kib("VmHWM") * 1024 };
}

/** Makes the peak start again from the current RSS (Linux `clear_refs` 5). */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Reads a child's stdout until a line matches (the rest is drained, so the pipe never fills). */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
  match: (line: string) => boolean,
): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the process ended before it was ready");
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    const found = lines.find(match);
    if (found !== undefined) {
      void (async () => {
        while (!(await reader.read()).done) {}
      })().catch(() => {});
      return found;
    }
  }
}

if (import.meta.main && process.argv.includes("--role")) {
  const s3 = await startS3({ bucket: "bench" });
  console.log(JSON.stringify(s3.config));
}
