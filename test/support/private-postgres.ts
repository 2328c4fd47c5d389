/**
 * A PostgreSQL server of a test's own, on a free port of 127.0.0.1, for the
 * fault tests that stop, restart or choke the database: the shared server on
 * 5432 is never touched. Built with the helpers of replica-cluster.ts (the
 * same binaries, the same `runuser -u postgres --` when running as root, the
 * same clean-up when the process exits).
 *
 * `stop()` and `start()` keep the data directory, so a test can take the
 * server away in the middle of a load and bring it back with every committed
 * row; `destroy()` removes everything.
 */
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../../scripts/lib/free-port.ts";
import { clusters, initDataDir, replicaClusterAvailable, run, tooling } from "./replica-cluster.ts";

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Whether the server is running (as far as this helper started and stopped it). */
  readonly running: boolean;
  /**
   * Stops the server: `fast` (the default, what `pg_ctl restart` does) ends
   * sessions and checkpoints; `immediate` is a crash, recovered from the WAL
   * on the next start.
   */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** A fresh small client for what the test does behind the registry's back (the caller ends it). */
  client(options?: postgres.Options<Record<string, postgres.PostgresType>>): postgres.Sql;
  /** The server's log so far, for a failure message. */
  log(): Promise<string>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * Whether a private server can be started here: true, or (off CI) false with
 * a loud warning; in CI (CI=true) a missing binary throws.
 */
export function privatePostgresAvailable(): boolean {
  return replicaClusterAvailable();
}

export async function startPrivatePostgres(settings: readonly string[] = []): Promise<PrivatePostgres> {
  const tools = tooling();
  const dir = await mkdtemp(join(tmpdir(), "registry-private-pg-"));
  if (tools.uid !== null && tools.gid !== null) await chown(dir, tools.uid, tools.gid);
  const dataDir = join(dir, "data");
  const logFile = `${dataDir}.log`;
  const port = freePort();
  const pgCtl = (...args: string[]) =>
    run([...tools.asPostgres, join(tools.bin, "pg_ctl"), "-D", dataDir, "-l", logFile, ...args]);
  let running = false;

  const start = async () => {
    await pgCtl("-w", "-t", "30", "start");
    running = true;
    clusters.add(dataDir);
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    await pgCtl("-w", "-t", "30", "-m", mode, "stop");
    running = false;
    clusters.delete(dataDir);
  };
  const log = async () => {
    const file = Bun.file(logFile);
    return (await file.exists()) ? await file.text() : "";
  };

  try {
    await initDataDir(dataDir, port, dir, settings);
    await start();
  } catch (error) {
    const text = await log();
    if (running) await stop("immediate").catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${text}`);
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    get running() {
      return running;
    },
    stop,
    start,
    client: (options = {}) => postgres(url, { max: 2, onnotice: () => {}, idle_timeout: 5, ...options }),
    log,
    async destroy() {
      if (running) await stop("immediate").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
