/**
 * Redis for tests: the machine's Redis (REDIS_TEST_URL, default
 * redis://127.0.0.1:6379), reachability with the project's rule (CI=true: a
 * missing Redis fails the run; elsewhere the suite is skipped, loudly), key
 * prefixes per test run with clean-up, and throwaway redis-server processes
 * on a port of the test's own, to kill and restart for chaos tests.
 */
import { Redis } from "ioredis";

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? "redis://127.0.0.1:6379";

export async function redisReachable(url: string = REDIS_TEST_URL, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * True when Redis answers. When it does not: throws under CI=true (a missing
 * service is a failure there), otherwise prints why `suite` is skipped and
 * returns false, for `describe.skipIf(!(await requireRedis("...")))`.
 */
export async function requireRedis(suite: string, url: string = REDIS_TEST_URL): Promise<boolean> {
  if (await redisReachable(url)) return true;
  const reason = `Redis at ${url} does not answer`;
  if (process.env.CI === "true")
    throw new Error(`${suite}: ${reason} (CI=true: a missing service fails the run)`);
  console.warn(
    `\n${"!".repeat(78)}\n!! SKIPPING ${suite}: ${reason}.\n!! Start it: redis-server --daemonize yes --port 6379 --save "" --appendonly no\n${"!".repeat(78)}\n`,
  );
  return false;
}

/** A key prefix no other test run shares. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deleteByPrefix(prefix: string, url: string = REDIS_TEST_URL): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
  return deleted;
}

import { freePort } from "../../scripts/lib/free-port.ts";

export { freePort };

export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: connections drop the way they do when a server dies. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections open and answers nothing, until `resume()`. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
}

/** Starts `redis-server --port <free port> --save "" --appendonly no`; call `kill()` when done. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ReturnType<typeof Bun.spawn> | null = null;

  const launch = async () => {
    proc = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (await redisReachable(url, 200)) return;
      if (proc.exitCode !== null) break;
      await Bun.sleep(25);
    }
    const stderr = proc.stderr instanceof ReadableStream ? await new Response(proc.stderr).text() : "";
    proc.kill(9);
    throw new Error(`redis-server on port ${port} did not start: ${stderr.trim() || "no output"}`);
  };

  await launch();
  return {
    port,
    url,
    async kill() {
      if (proc === null) return;
      const running = proc;
      proc = null;
      running.kill(9);
      await running.exited;
    },
    async restart() {
      if (proc !== null) throw new Error("redis-server is still running");
      await launch();
    },
    pause() {
      (proc as ReturnType<typeof Bun.spawn> | null)?.kill("SIGSTOP");
    },
    resume() {
      (proc as ReturnType<typeof Bun.spawn> | null)?.kill("SIGCONT");
    },
  };
}
