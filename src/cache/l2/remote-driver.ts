/**
 * L2's driver contract and the factory that picks a driver at start-up.
 *
 * Values are strings: the Upstash REST protocol carries them inside JSON and
 * its client decodes results as UTF-8, so text is what both drivers store and
 * read byte for byte (test/cache/remote-driver.contract.test.ts checks that
 * one driver reads what the other wrote). Keys arrive fully namespaced; the
 * drivers add nothing to them.
 *
 * Each driver lives in its own module and is loaded with `await import()`, so
 * an Upstash deployment never loads ioredis and vice versa. ioredis serves
 * the three ways Redis is deployed over TCP: one server by URL, a primary
 * found through Sentinel, and a Redis Cluster.
 */

export interface RemoteEntry {
  key: string;
  value: string;
  ttlSeconds: number;
}

export interface RemoteCacheDriver {
  /** `ioredis`, `ioredis-sentinel`, `ioredis-cluster` or `upstash`: for stats and health output. */
  readonly name: string;
  get(key: string): Promise<string | null>;
  /** One round trip; answers in the order of `keys`, `null` where absent. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Pipelined: one round trip for the batch. */
  setMany(entries: readonly RemoteEntry[]): Promise<void>;
  delete(key: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
  /**
   * Runs a Lua script (EVALSHA, then EVAL when the server does not hold it
   * yet); its keys must share one cluster slot. The rate limiter's buckets use it.
   */
  evalScript?(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Throws when the server does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Connection settings every ioredis topology shares. */
export interface IoredisTimeouts {
  /** Per-command timeout inside ioredis; the cache's own budget is shorter. Default 1,000 ms. */
  commandTimeoutMs?: number;
  /** Default 2,000 ms. */
  connectTimeoutMs?: number;
  /** How long the factory waits for the first connection; it returns either way. Default 1,000 ms. */
  readyTimeoutMs?: number;
}

export interface IoredisDriverConfig extends IoredisTimeouts {
  kind: "ioredis";
  /** `redis://` or `rediss://` URL (`REDIS_URL`); credentials, database and TLS go in the URL. */
  url: string;
}

export interface RedisEndpoint {
  host: string;
  port: number;
}

/** Credentials of the data nodes (`REDIS_USERNAME`, `REDIS_PASSWORD`); ACL user `default` when no username. */
export interface RedisCredentials {
  username?: string;
  password?: string;
}

/** The primary of a Sentinel-monitored group, found by asking the sentinels, and found again after a failover. */
export interface SentinelDriverConfig extends IoredisTimeouts, RedisCredentials {
  kind: "sentinel";
  /** `REDIS_SENTINELS`: any of them answering is enough. */
  sentinels: RedisEndpoint[];
  /** `REDIS_SENTINEL_MASTER`: the name the sentinels monitor the primary under. */
  master: string;
  /** `REDIS_SENTINEL_PASSWORD`: the sentinels' own requirepass, when they have one. */
  sentinelPassword?: string;
}

/** A Redis Cluster, discovered from any of its nodes (`REDIS_CLUSTER_NODES`). */
export interface ClusterDriverConfig extends IoredisTimeouts, RedisCredentials {
  kind: "cluster";
  nodes: RedisEndpoint[];
}

export interface UpstashDriverConfig {
  kind: "upstash";
  /** `UPSTASH_REDIS_REST_URL` */
  url: string;
  /** `UPSTASH_REDIS_REST_TOKEN` */
  token: string;
}

/** The configurations the ioredis driver serves. */
export type TcpDriverConfig = IoredisDriverConfig | SentinelDriverConfig | ClusterDriverConfig;

export type RemoteDriverConfig = TcpDriverConfig | UpstashDriverConfig;

export async function createRemoteCacheDriver(config: RemoteDriverConfig): Promise<RemoteCacheDriver> {
  switch (config.kind) {
    case "ioredis":
    case "sentinel":
    case "cluster": {
      const { createIoredisDriver } = await import("./ioredis-driver.ts");
      return createIoredisDriver(config);
    }
    case "upstash": {
      const { createUpstashDriver } = await import("./upstash-driver.ts");
      return createUpstashDriver(config);
    }
  }
}

const scriptShas = new Map<string, Promise<string>>();

/** The SHA-1 that EVALSHA names a script by, computed once per script (web-standard crypto). */
export function scriptSha1(source: string): Promise<string> {
  let sha = scriptShas.get(source);
  if (sha === undefined) {
    sha = crypto.subtle
      .digest("SHA-1", new TextEncoder().encode(source))
      .then((digest) =>
        [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join(""),
      );
    scriptShas.set(source, sha);
  }
  return sha;
}

/** Whether a failed EVALSHA failed because the server does not hold the script (EVAL it then). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes("NOSCRIPT");
}

/** Splits a batch so that no single command carries an unbounded argument list. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
