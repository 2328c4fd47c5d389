/**
 * The contestants of the cache benches, configured alike: our TieredCache and
 * bentocache (the peer to beat) with the same L1 size and the same Redis
 * (REDIS_URL, default redis://127.0.0.1:6379), each under a key prefix of its
 * own that is deleted afterwards. Also the Pareto (80/20) key sampler.
 */
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisDriver } from "bentocache/drivers/redis";
import { Redis } from "ioredis";
import { createRemoteCacheDriver } from "../../src/cache/l2/remote-driver.ts";
import { TieredCache } from "../../src/cache/tiered-cache.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const RUN = crypto.randomUUID().slice(0, 8);

/** One read-through interface over both caches. */
export interface Contestant<T = unknown> {
  name: string;
  get(key: string, loader: () => Promise<T>): Promise<T | null>;
  set(key: string, value: T): Promise<void>;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** L1 entries; 0 = no L1. */
  l1Entries: number;
  /** Use L2 (Redis). */
  l2: boolean;
  /** Ours only: L1 admission policy (default TinyLFU). */
  admission?: "tinylfu" | "lru";
}

export async function ours(
  options: PeerOptions,
  label = "ours",
): Promise<Contestant & { cache: TieredCache }> {
  const cache = new TieredCache({
    keyPrefix: `bench:${RUN}:${label.replace(/[^A-Za-z0-9]+/g, "-")}`,
    l1:
      options.l1Entries > 0
        ? { maxEntries: options.l1Entries, maxBytes: 2 ** 31 - 1, admission: options.admission ?? "tinylfu" }
        : false,
    l2: options.l2 ? await createRemoteCacheDriver({ kind: "ioredis", url: REDIS_URL }) : null,
    l2TtlSeconds: 600,
  });
  return {
    name: label,
    cache,
    get: (key, loader) => cache.get(key, loader),
    set: (key, value) => cache.set(key, value),
    close: () => cache.close(),
  };
}

export interface BentoPeer extends Contestant {
  bento: BentoCache<{ s: ReturnType<typeof bentostore> }>;
  counts: { l1: number; l2: number; miss: number };
}

/** bentocache with the same bounds; `serialize` is its memory driver's option (default true: it stores strings). */
export function bento(options: PeerOptions & { serialize?: boolean }, label = "bentocache"): BentoPeer {
  const url = new URL(REDIS_URL);
  let store = bentostore();
  if (options.l1Entries > 0) {
    store = store.useL1Layer(
      memoryDriver({ maxItems: options.l1Entries, serialize: options.serialize ?? true }),
    );
  }
  if (options.l2) {
    store = store.useL2Layer(
      redisDriver({
        connection: { host: url.hostname, port: Number(url.port || 6379) },
        prefix: `bench:${RUN}:bento`,
      }),
    );
  }
  const cache = new BentoCache({ default: "s", stores: { s: store } });
  const counts = { l1: 0, l2: 0, miss: 0 };
  cache.on("cache:hit", (event) => {
    counts[event.layer]++;
  });
  cache.on("cache:miss", () => {
    counts.miss++;
  });
  return {
    name: label,
    bento: cache,
    counts,
    get: (key, loader) => cache.getOrSet({ key, ttl: "10m", factory: loader }),
    set: async (key, value) => {
      await cache.set({ key, value, ttl: "10m" });
    },
    close: () => cache.disconnectAll(),
  };
}

/** Deletes every key this run wrote to Redis. */
export async function cleanRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `bench:${RUN}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
}

/**
 * Pareto 80/20 over `n` keys, self-similar: the top 20 % of keys get 80 % of
 * reads, the top 4 % get 64 %, and so on (P(rank < f·n) = f^β, β = ln 0.8 / ln 0.2).
 */
export function paretoSampler(n: number, seed = 42): () => number {
  const beta = Math.log(0.8) / Math.log(0.2);
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    const u = (state + 0.5) / 2 ** 32;
    return Math.min(n - 1, Math.floor(n * u ** (1 / beta)));
  };
}

export function heapUsed(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

export interface Contender {
  name: string;
  /** One operation (or one batch); `i` counts calls. */
  op: (i: number) => Promise<unknown>;
  /** Operations one call stands for (a batch of c concurrent gets counts c). */
  weight?: number;
}

/**
 * Paired measurement for noisy neighbours: contenders take turns in short
 * rounds (order rotated each round), so load that comes and goes on a shared
 * machine falls on all of them alike; prints each one's median time per
 * operation and its ratio to the first (the baseline).
 */
export async function interleaved(
  title: string,
  contenders: Contender[],
  rounds = 15,
  callsPerRound = 300,
): Promise<void> {
  const samples = contenders.map(() => [] as number[]);
  let i = 0;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + round) % contenders.length;
      const contender = contenders[index]!;
      const started = performance.now();
      for (let call = 0; call < callsPerRound; call++) await contender.op(i++);
      const perOp = ((performance.now() - started) * 1000) / (callsPerRound * (contender.weight ?? 1));
      samples[index]!.push(perOp);
    }
  }
  const medians = samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]!);
  console.log(`${title} (interleaved, median of ${rounds} rounds):`);
  contenders.forEach((contender, index) => {
    const ratio = medians[0]! / medians[index]!;
    console.log(
      `  ${contender.name.padEnd(40)} ${medians[index]!.toFixed(2).padStart(9)} µs/op   ${ratio.toFixed(2)}x the speed of ${contenders[0]!.name}`,
    );
  });
}
