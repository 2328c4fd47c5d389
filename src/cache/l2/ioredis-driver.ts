/**
 * L2 over TCP with ioredis, in the three shapes Redis is deployed in: one
 * server by URL (`redis://`, `rediss://`), the primary of a Sentinel group,
 * and a Redis Cluster, each through ioredis's own support for it.
 *
 * Tuned to fail fast: the offline queue is off, so a command issued while
 * Redis is down (or failing over) rejects at once instead of waiting for a
 * reconnection, and a command timeout bounds a Redis that accepts
 * connections but does not answer. Reconnection is automatic and unbounded
 * (with a capped back-off), so the cache's circuit breaker finds Redis again
 * when it returns.
 *
 * Sentinel: ioredis asks the sentinels for the primary on every connection.
 * A killed primary drops it, and ioredis reconnects (every 50 to 500 ms)
 * until the sentinels name the promoted replica. A primary demoted by
 * SENTINEL FAILOVER goes on answering as a primary until the sentinel
 * reconfigures it, about 8 s later: ioredis's failover detector (a
 * subscription to the sentinels' +switch-master) moves the client at once
 * instead, and a READONLY answer makes it reconnect too. A promotion heard
 * while a reconnection is under way ends the client for good (ioredis 5.11,
 * seen in test/cache/redis-sentinel.test.ts), so an end the driver did not
 * ask for starts it again.
 *
 * Replication is asynchronous, and a demoted primary takes writes until it
 * is reconfigured: a delete acknowledged by the old primary may never reach
 * the new one, and the value it deleted is back. So the driver remembers the
 * keys it deleted in the last minute and, on finding itself connected to
 * another primary, deletes them again before any other command of its
 * reaches that primary.
 *
 * Cluster: a multi-key command must name keys of one hash slot (CROSSSLOT
 * otherwise), and a pipeline keys of one node. Batches are split by slot
 * (key-slot.ts) into one command per slot, and auto-pipelining sends those
 * bound for one node in one round trip. Keys that are read and deleted
 * together carry a hash tag (keys.ts), so they share a slot and a command.
 *
 * Elsewhere batch operations are pipelined, in chunks of 500 keys.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { groupBySlot } from "./key-slot.ts";
import {
  chunks,
  isNoScript,
  type RedisCredentials,
  type RemoteCacheDriver,
  type RemoteEntry,
  scriptSha1,
  type TcpDriverConfig,
} from "./remote-driver.ts";

const BATCH = 500;

/** How long a delete is remembered for a replay after a Sentinel failover, and how many keys at most. */
export const FAILOVER_REPLAY_WINDOW_MS = 60_000;
export const FAILOVER_REPLAY_MAX_KEYS = 10_000;

const NAMES = { ioredis: "ioredis", sentinel: "ioredis-sentinel", cluster: "ioredis-cluster" } as const;

export async function createIoredisDriver(config: TcpDriverConfig): Promise<RemoteCacheDriver> {
  const client = connect(config);
  // Without a listener ioredis prints every connection error; the breaker and stats report them instead.
  let lastError: unknown = null;
  client.on("error", (error) => {
    lastError = error;
  });
  let closing = false;
  if (config.kind === "sentinel") {
    client.on("end", () => {
      if (!closing) setTimeout(() => client.connect().catch(() => {}), 50);
    });
  }
  await waitForReady(client, config.readyTimeoutMs ?? 1_000);

  const ops = client instanceof Cluster ? clusterOps(client) : pipelinedOps(client);
  const replay = config.kind === "sentinel" && client instanceof Redis ? new FailoverReplay(client) : null;
  const deleteMany = (keys: readonly string[]) => {
    replay?.remember(keys);
    return ops.deleteMany(keys);
  };

  const driver: RemoteCacheDriver = {
    name: NAMES[config.kind],
    get: (key) => client.get(key),
    async getMany(keys) {
      if (keys.length === 0) return [];
      return ops.getMany(keys);
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, "EX", ttl(ttlSeconds));
    },
    async setMany(entries) {
      if (entries.length === 0) return;
      await ops.setMany(entries);
    },
    async delete(key) {
      await deleteMany([key]);
    },
    async deleteMany(keys) {
      if (keys.length === 0) return;
      await deleteMany(keys);
    },
    // The rate limiter's bucket script; a cluster routes it by its one key.
    async evalScript(source, keys, args) {
      const sha = await scriptSha1(source);
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return client.eval(source, keys.length, ...keys, ...args);
      }
    },
    async ping() {
      // Every primary of a cluster: the slots of one that does not answer are as good as lost.
      const nodes = client instanceof Cluster ? client.nodes("master") : [client];
      if (nodes.length === 0) throw new Error("no Redis Cluster primary is known", { cause: lastError });
      for (const answer of await Promise.all(nodes.map((node) => node.ping()))) {
        if (answer !== "PONG") throw new Error(`unexpected PING answer: ${answer}`, { cause: lastError });
      }
    },
    async close() {
      closing = true;
      try {
        await client.quit();
      } catch {
        // Not connected: nothing to say goodbye to.
      }
      // QUIT leaves the failover detector's subscriptions to the sentinels open (a Deno process then never
      // exits); disconnect() closes them too, and is a no-op for a client already ended.
      client.disconnect();
    },
  };
  return replay ? replay.guard(driver) : driver;
}

function connect(config: TcpDriverConfig): Redis | Cluster {
  const common = {
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs ?? 1_000,
    connectTimeout: config.connectTimeoutMs ?? 2_000,
    maxRetriesPerRequest: 0,
  } satisfies RedisOptions;
  const retry = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
  switch (config.kind) {
    case "ioredis":
      return new Redis(config.url, { ...common, retryStrategy: retry, lazyConnect: false });
    case "sentinel":
      return new Redis({
        ...common,
        ...credentials(config),
        sentinels: config.sentinels,
        name: config.master,
        role: "master",
        failoverDetector: true,
        ...(config.sentinelPassword !== undefined ? { sentinelPassword: config.sentinelPassword } : {}),
        // Until the sentinels name the new primary, the old address refuses: try again soon, not in 2 s.
        retryStrategy: (attempt) => Math.min(50 * attempt, 500),
        sentinelRetryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
        reconnectOnError: (error) => error.message.startsWith("READONLY"),
        lazyConnect: false,
      });
    case "cluster":
      return new Cluster(config.nodes, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        scaleReads: "master",
        clusterRetryStrategy: retry,
        slotsRefreshTimeout: common.connectTimeout,
        redisOptions: { ...common, ...credentials(config) },
      } satisfies ClusterOptions);
  }
}

function credentials(config: RedisCredentials): RedisCredentials {
  return {
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
  };
}

type BatchOps = Pick<RemoteCacheDriver, "getMany" | "setMany" | "deleteMany">;

/** One server or a Sentinel primary: MGET, and pipelines of SET and DEL. */
function pipelinedOps(client: Redis): BatchOps {
  return {
    async getMany(keys) {
      if (keys.length <= BATCH) return client.mget(keys as string[]);
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.mget(part);
      return unwrap<(string | null)[]>(await pipeline.exec()).flat();
    },
    async setMany(entries) {
      const pipeline = client.pipeline();
      for (const entry of entries) pipeline.set(entry.key, entry.value, "EX", ttl(entry.ttlSeconds));
      unwrap(await pipeline.exec());
    },
    async deleteMany(keys) {
      // One DEL needs no pipeline around it (an invalidation is a handful of keys).
      if (keys.length <= BATCH) {
        await client.del(keys as string[]);
        return;
      }
      const pipeline = client.pipeline();
      for (const part of chunks(keys, BATCH)) pipeline.del(part);
      unwrap(await pipeline.exec());
    },
  };
}

/** A cluster: one command per slot (never CROSSSLOT); auto-pipelining gathers a node's into one round trip. */
function clusterOps(client: Cluster): BatchOps {
  return {
    async getMany(keys) {
      const values: (string | null)[] = new Array(keys.length);
      await Promise.all(
        groupBySlot(keys).flatMap((group) =>
          chunks(group, BATCH).map(async (part) => {
            const found = await client.mget(part.map((index) => keys[index]!));
            for (const [i, index] of part.entries()) values[index] = found[i] ?? null;
          }),
        ),
      );
      return values;
    },
    async setMany(entries: readonly RemoteEntry[]) {
      await Promise.all(
        entries.map((entry) => client.set(entry.key, entry.value, "EX", ttl(entry.ttlSeconds))),
      );
    },
    async deleteMany(keys) {
      await Promise.all(
        groupBySlot(keys).flatMap((group) =>
          chunks(group, BATCH).map((part) => client.del(part.map((index) => keys[index]!))),
        ),
      );
    },
  };
}

/**
 * The Sentinel replay of recent deletes after a failover (see the header).
 * The primary is told apart by the address of the connection; `guard` makes
 * every command wait for a replay the primary it is about to reach still needs.
 */
class FailoverReplay {
  /** Key → when it was last deleted; oldest first. */
  readonly #deleted = new Map<string, number>();
  #primary: string | null = null;
  #owed = false;
  #running: Promise<void> | null = null;

  constructor(readonly client: Redis) {}

  remember(keys: readonly string[]): void {
    const now = Date.now();
    for (const key of keys) {
      this.#deleted.delete(key);
      this.#deleted.set(key, now);
    }
    this.#forgetOld(now);
  }

  guard(driver: RemoteCacheDriver): RemoteCacheDriver {
    const gated =
      <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        const waiting = this.#due();
        return waiting === null ? op(...args) : waiting.then(() => op(...args));
      };
    // What reads or writes cache entries waits; anything else the driver offers (ping, scripts on keys
    // that are never deleted) passes through as it is.
    return {
      ...driver,
      get: gated(driver.get),
      getMany: gated(driver.getMany),
      set: gated(driver.set),
      setMany: gated(driver.setMany),
      delete: gated(driver.delete),
      deleteMany: gated(driver.deleteMany),
    };
  }

  /** null when nothing is owed to the primary connected now; else the replay to wait for (it may fail). */
  #due(): Promise<void> | null {
    const stream = this.client.stream;
    const address =
      this.client.status === "ready" && stream?.remotePort
        ? `${stream.remoteAddress}:${stream.remotePort}`
        : null;
    if (address !== null && address !== this.#primary) {
      // The first primary owes nothing: what it misses, it never had.
      if (this.#primary !== null) this.#owed = true;
      this.#primary = address;
    }
    if (!this.#owed) return null;
    this.#running ??= this.#replay().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #replay(): Promise<void> {
    this.#forgetOld(Date.now());
    const keys = [...this.#deleted.keys()];
    const pipeline = this.client.pipeline();
    for (const part of chunks(keys, BATCH)) pipeline.del(part);
    // A failed replay throws before this line: still owed, and the command that waited fails with it
    // (a miss to the cache, never a stale value).
    if (keys.length > 0) unwrap(await pipeline.exec());
    this.#owed = false;
  }

  #forgetOld(now: number): void {
    for (const [key, at] of this.#deleted) {
      if (now - at <= FAILOVER_REPLAY_WINDOW_MS && this.#deleted.size <= FAILOVER_REPLAY_MAX_KEYS) break;
      this.#deleted.delete(key);
    }
  }
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

function waitForReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
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
