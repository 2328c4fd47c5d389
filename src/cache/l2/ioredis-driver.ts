/**
 * L2 over TCP with ioredis (`redis://`, `rediss://`). Tuned to fail fast: the
 * offline queue is off, so a command issued while Redis is down rejects at
 * once instead of waiting for a reconnection, and a command timeout bounds a
 * Redis that accepts connections but does not answer. Reconnection is
 * automatic and unbounded (with a capped back-off), so the cache's circuit
 * breaker finds Redis again when it returns. Batch operations are pipelined.
 */
import { Redis } from "ioredis";
import {
  chunks,
  type IoredisDriverConfig,
  type RemoteCacheDriver,
  type RemoteEntry,
} from "./remote-driver.ts";

const BATCH = 500;

export async function createIoredisDriver(config: IoredisDriverConfig): Promise<RemoteCacheDriver> {
  const client = new Redis(config.url, {
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs ?? 1_000,
    connectTimeout: config.connectTimeoutMs ?? 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    lazyConnect: false,
  });
  // Without a listener ioredis prints every connection error; the breaker and stats report them instead.
  let lastError: unknown = null;
  client.on("error", (error) => {
    lastError = error;
  });
  await waitForReady(client, config.readyTimeoutMs ?? 1_000);

  return {
    name: "ioredis",
    get: (key) => client.get(key),
    async getMany(keys) {
      if (keys.length === 0) return [];
      if (keys.length <= BATCH) return client.mget(keys as string[]);
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.mget(part);
      return unwrap<(string | null)[]>(await pipeline.exec()).flat();
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, "EX", ttl(ttlSeconds));
    },
    async setMany(entries: readonly RemoteEntry[]) {
      if (entries.length === 0) return;
      const pipeline = client.pipeline();
      for (const entry of entries) pipeline.set(entry.key, entry.value, "EX", ttl(entry.ttlSeconds));
      unwrap(await pipeline.exec());
    },
    async delete(key) {
      await client.del(key);
    },
    async deleteMany(keys) {
      if (keys.length === 0) return;
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.del(part);
      unwrap(await pipeline.exec());
    },
    async ping() {
      const answer = await client.ping();
      if (answer !== "PONG") throw new Error(`unexpected PING answer: ${answer}`, { cause: lastError });
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

function ttl(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

function unwrap<T>(results: [Error | null, unknown][] | null): T[] {
  if (results === null) throw new Error("pipeline was not executed");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value as T;
  });
}

function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("ready", done);
      resolve();
    };
    // A Redis that is down at start-up is not fatal: the cache degrades and ioredis keeps reconnecting.
    const timer = setTimeout(done, timeoutMs);
    client.once("ready", done);
  });
}
