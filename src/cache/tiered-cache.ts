/**
 * The read path's cache: L1 (in-process) → L2 (Redis) → loader (PostgreSQL),
 * filling the tiers on the way back. This is where the registry's reads go
 * first; start here.
 *
 * - Single flight: concurrent misses of one key share one L2 lookup and one
 *   loader call (100 concurrent misses make one PostgreSQL query).
 * - Negative entries: a loader answering `null` ("no such schema") is cached
 *   for a short time (30 s L1, 60 s L2), so lookups of missing ids stop
 *   reaching PostgreSQL.
 * - Degradation: L2 sits behind a timeout budget and a circuit breaker
 *   (l2/guarded-remote.ts); any L2 failure becomes a miss, never an error.
 *   Only the loader's own errors reach the caller (and are not cached).
 * - Coherence: `delete` drops keys from L1 and L2 and marks in-flight loads of
 *   them stale, so a load that began before a write never refills the tiers
 *   with what the write replaced. With an invalidation bus attached,
 *   `invalidate(keys, tx)` publishes through the write's transaction; until
 *   the commit comes back as an echo, the keys are fenced on this instance
 *   (read straight from the loader, never stored), so this instance cannot
 *   serve, or cache, the value as it was before its own write.
 *
 * Values handed out are shared with L1: treat them as immutable.
 */
import type { InvalidationBus, InvalidationEvent, NotifySql } from "./bus/invalidation-bus.ts";
import { createKeyNamespace, type KeyNamespace } from "./keys.ts";
import { MemoryCache, type MemoryCacheOptions, type MemoryCacheStats } from "./l1/memory-cache.ts";
import { GuardedRemote, type GuardOptions, type GuardStats, UNAVAILABLE } from "./l2/guarded-remote.ts";
import type { RemoteCacheDriver, RemoteEntry } from "./l2/remote-driver.ts";
import { decodeEntry, encodeEntry, type ValueSchema } from "./serializers/entry-codec.ts";
import { jsonSerializer } from "./serializers/json-serializer.ts";
import type { Serializer } from "./serializers/serializer.ts";

export interface TieredCacheOptions {
  /** L1 bounds; `false` turns L1 off (every read goes to L2). */
  l1?: Partial<MemoryCacheOptions> | false;
  /** The L2 driver, or null/absent for an L1-only cache. The cache closes it on `close()`. */
  l2?: RemoteCacheDriver | null;
  /** Timeout budget and breaker settings for L2. */
  l2Guard?: Partial<GuardOptions>;
  /** L2 TTL of values. Default 3,600 s (`REDIS_TTL_SECONDS`). */
  l2TtlSeconds?: number;
  /** TTL of negative entries. Default 30 s in L1, 60 s in L2. */
  negativeTtlSeconds?: { l1: number; l2: number };
  /** Default JSON (see serializers/json-serializer.ts for the figures behind it). */
  serializer?: Serializer;
  /** First part of every L2 key. Default `registry`. */
  keyPrefix?: string;
  /** Cross-instance invalidation; without it `invalidate` acts on this instance and L2 only. */
  bus?: InvalidationBus;
  /** Longest a key stays fenced waiting for its transaction's echo (a rollback never echoes). Default 10,000 ms. */
  fenceTimeoutMs?: number;
}

export interface GetOptions<T> {
  /** Checks (and may transform) a value read from L2; a value that fails it is a miss. */
  schema?: ValueSchema<T>;
  /** TTL of this value in L2 (and at most this in L1). */
  ttlSeconds?: number;
}

export interface CacheEntryInput<T> {
  key: string;
  /** `null` stores a negative entry. */
  value: T | null;
}

export interface TierCounters {
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 when there was no lookup. */
  hitRate: number;
}

export interface CacheStats {
  /** Reads through `get`. */
  requests: number;
  /** Share of reads answered by L1 or L2 (not the loader). */
  hitRate: number;
  /** Hits on negative entries ("does not exist"), within the tiers' hits. */
  negativeHits: number;
  l1: (TierCounters & MemoryCacheStats) | null;
  l2: (TierCounters & GuardStats & { decodeErrors: number }) | null;
  loader: { calls: number; errors: number; coalesced: number };
  /** Values that could not be serialized (not cached). */
  encodeErrors: number;
  invalidations: number;
  fencedKeys: number;
}

interface Flight {
  stale: boolean;
  promise: Promise<unknown>;
}

interface Fence {
  count: number;
  until: number;
}

const NO_OPTIONS: GetOptions<never> = {};
const RESOLVED: Promise<unknown> = Promise.resolve();

export class TieredCache {
  readonly namespace: KeyNamespace;
  readonly #l1: MemoryCache | null;
  readonly #l2: GuardedRemote | null;
  readonly #serializer: Serializer;
  readonly #l2Ttl: number;
  readonly #negative: { l1: number; l2: number };
  readonly #fenceTimeoutMs: number;
  readonly #bus: InvalidationBus | null;
  readonly #unsubscribe: (() => void) | null;
  readonly #flights = new Map<string, Flight>();
  readonly #fences = new Map<string, Fence>();
  readonly #writes = new Set<Promise<unknown>>();
  readonly #dropListeners = new Set<(keys: readonly string[]) => void>();
  /** Keys L1 held when this instance's own message dropped them, told of at its echo. */
  readonly #heldUntilEcho = new Set<string>();

  #requests = 0;
  #l1Hits = 0;
  #l1Misses = 0;
  #l2Hits = 0;
  #l2Misses = 0;
  #decodeErrors = 0;
  #negativeHits = 0;
  #loaderCalls = 0;
  #loaderErrors = 0;
  #coalesced = 0;
  #encodeErrors = 0;
  #invalidations = 0;

  constructor(options: TieredCacheOptions = {}) {
    this.#l1 = options.l1 === false ? null : new MemoryCache(options.l1 ?? {});
    this.#l2 = options.l2 ? new GuardedRemote(options.l2, options.l2Guard) : null;
    this.#serializer = options.serializer ?? jsonSerializer;
    this.#l2Ttl = options.l2TtlSeconds ?? 3_600;
    this.#negative = options.negativeTtlSeconds ?? { l1: 30, l2: 60 };
    this.#fenceTimeoutMs = options.fenceTimeoutMs ?? 10_000;
    this.namespace = createKeyNamespace(options.keyPrefix ?? "registry", this.#serializer.id);
    this.#bus = options.bus ?? null;
    this.#unsubscribe = this.#bus ? this.#bus.subscribe((event) => this.#onInvalidation(event)) : null;
  }

  /**
   * The value under `key`: from L1, else L2, else `loader` (whose answer fills
   * both). `loader` answers `null` (or `undefined`) for "does not exist",
   * which is cached briefly as a negative entry and returned as `null`.
   */
  get<T>(
    key: string,
    loader: () => Promise<T | null | undefined>,
    options?: GetOptions<T>,
  ): Promise<T | null> {
    this.#requests++;
    if (this.#l1 !== null) {
      const hit = this.#l1.get(key);
      if (hit !== undefined) {
        this.#l1Hits++;
        if (hit.value === null) this.#negativeHits++;
        return Promise.resolve(hit.value as T | null);
      }
      this.#l1Misses++;
    }
    const running = this.#flights.get(key);
    if (running !== undefined) {
      this.#coalesced++;
      return running.promise as Promise<T | null>;
    }
    const flight: Flight = { stale: false, promise: RESOLVED };
    this.#flights.set(key, flight);
    flight.promise = this.#fill(key, loader, options ?? NO_OPTIONS, flight);
    return flight.promise as Promise<T | null>;
  }

  /**
   * What L1 holds for `key`, synchronously: `{ value }` on a hit (a negative
   * entry is `{ value: null }`), undefined otherwise. A hit counts as an L1
   * hit; a miss is not counted, since the caller goes on to `get`, which
   * counts it. For the HTTP fast path, which answers without awaiting.
   */
  peek<T>(key: string): { value: T | null } | undefined {
    const hit = this.#l1?.get(key);
    if (hit === undefined) return undefined;
    this.#requests++;
    this.#l1Hits++;
    if (hit.value === null) this.#negativeHits++;
    return { value: hit.value as T | null };
  }

  /**
   * What the tiers hold for `keys`, without calling any loader: L1 first, then
   * one pipelined L2 lookup for the rest (filling L1). Keys in neither are
   * absent from the result; a negative entry maps to `null`. For warming and
   * multi-gets: load the absent ones and hand them to `setMany`.
   */
  /** L2 behind its budget and breaker (the rate limiter's buckets run their script through it); null without L2. */
  get remote(): GuardedRemote | null {
    return this.#l2;
  }

  async peekMany<T>(keys: readonly string[], options?: GetOptions<T>): Promise<Map<string, T | null>> {
    const found = new Map<string, T | null>();
    const rest: string[] = [];
    for (const key of keys) {
      const hit = this.#l1?.get(key);
      if (hit !== undefined) found.set(key, hit.value as T | null);
      else if (!this.#isFenced(key)) rest.push(key);
    }
    if (rest.length === 0 || this.#l2 === null) return found;
    const texts = await this.#l2.getMany(rest.map((key) => this.namespace.full(key)));
    if (texts === UNAVAILABLE) return found;
    rest.forEach((key, i) => {
      const text = texts[i];
      if (typeof text !== "string") return;
      const entry = decodeEntry(this.#serializer, text, options?.schema);
      if (entry === undefined) {
        this.#decodeErrors++;
        return;
      }
      found.set(key, entry.value);
      this.#l1?.set(key, entry.value, text.length, this.#l1TtlMs(entry.value, options?.ttlSeconds));
    });
    return found;
  }

  /** Stores a value (or, with `null`, a negative entry) in L1 and L2; waits for L2. */
  async set<T>(key: string, value: T | null, options?: Pick<GetOptions<T>, "ttlSeconds">): Promise<void> {
    await this.setMany([{ key, value }], options);
  }

  /** Stores many entries: L1 each, L2 in one pipelined request. */
  async setMany<T>(
    entries: readonly CacheEntryInput<T>[],
    options?: Pick<GetOptions<T>, "ttlSeconds">,
  ): Promise<void> {
    const remote: RemoteEntry[] = [];
    for (const { key, value } of entries) {
      if (this.#isFenced(key)) continue;
      const text = this.#encode(value);
      if (text === undefined) continue;
      this.#l1?.set(key, value, text.length, this.#l1TtlMs(value, options?.ttlSeconds));
      remote.push({
        key: this.namespace.full(key),
        value: text,
        ttlSeconds: this.#l2TtlSeconds(value, options?.ttlSeconds),
      });
    }
    if (this.#l2 === null) return;
    // A pipeline has a fixed cost of its own; one entry is one plain SET.
    if (remote.length === 1) await this.#l2.set(remote[0]!.key, remote[0]!.value, remote[0]!.ttlSeconds);
    else await this.#l2.setMany(remote);
  }

  /** Drops `keys` from L1 and L2 on this instance (and stops in-flight loads from refilling them). */
  async delete(keys: string | readonly string[]): Promise<void> {
    const list = typeof keys === "string" ? [keys] : keys;
    this.deleteLocal(list);
    if (this.#l2 !== null) await this.#l2.deleteMany(list.map((key) => this.namespace.full(key)));
  }

  /** Drops `keys` from L1 only. */
  deleteLocal(keys: string | readonly string[]): void {
    const list = typeof keys === "string" ? [keys] : keys;
    for (const key of list) {
      this.#l1?.delete(key);
      const flight = this.#flights.get(key);
      if (flight !== undefined) {
        flight.stale = true;
        this.#flights.delete(key);
      }
    }
    this.#invalidations += list.length;
  }

  /** Drops everything in L1 (after the bus lost notifications). */
  clearLocal(): void {
    this.#l1?.clear();
    for (const flight of this.#flights.values()) flight.stale = true;
    this.#flights.clear();
    this.#invalidations++;
  }

  /**
   * Invalidates `keys` on every instance. With a bus: published through `tx`
   * (so other instances hear of it only if it commits) and applied here at
   * once; without one: `delete`. Call it inside the write's transaction.
   */
  async invalidate(keys: string | readonly string[], tx?: NotifySql): Promise<void> {
    const list = typeof keys === "string" ? [keys] : [...keys];
    if (this.#bus !== null) await this.#bus.publish(list, tx);
    else {
      const held = this.#held(list);
      await this.delete(list);
      this.#dropped(held);
    }
  }

  /**
   * Calls `listener` with the keys of each invalidation that L1 held, once
   * they are gone for good from L1 and L2: after `invalidate` without a bus,
   * and after each bus message from another instance or the publisher's own
   * echo (not at its local application: the echo drops the keys again, and
   * would drop a value loaded in between). The place for a refresh-ahead of
   * keys readers ask for: a key nobody read here is not loaded again. Answers
   * the unsubscribe.
   */
  onDropped(listener: (keys: readonly string[]) => void): () => void {
    this.#dropListeners.add(listener);
    return () => this.#dropListeners.delete(listener);
  }

  #dropped(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const listener of this.#dropListeners) listener(keys);
  }

  /** The keys of `keys` that L1 holds; none when nobody listens for drops. */
  #held(keys: readonly string[]): string[] {
    if (this.#dropListeners.size === 0 || this.#l1 === null) return [];
    return keys.filter((key) => this.#l1!.has(key));
  }

  /** Waits for background L2 writes (fills on miss) to finish. */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Whether L2 answers a PING within the budget; `null` when there is no L2. */
  async pingL2(): Promise<boolean | null> {
    return this.#l2 === null ? null : this.#l2.ping();
  }

  stats(): CacheStats {
    const rate = (hits: number, misses: number) => (hits + misses === 0 ? 0 : hits / (hits + misses));
    const answered = this.#l1Hits + this.#l2Hits;
    return {
      requests: this.#requests,
      hitRate: this.#requests === 0 ? 0 : answered / this.#requests,
      negativeHits: this.#negativeHits,
      l1:
        this.#l1 === null
          ? null
          : {
              hits: this.#l1Hits,
              misses: this.#l1Misses,
              hitRate: rate(this.#l1Hits, this.#l1Misses),
              ...this.#l1.stats(),
            },
      l2:
        this.#l2 === null
          ? null
          : {
              hits: this.#l2Hits,
              misses: this.#l2Misses,
              hitRate: rate(this.#l2Hits, this.#l2Misses),
              decodeErrors: this.#decodeErrors,
              ...this.#l2.stats(),
            },
      loader: { calls: this.#loaderCalls, errors: this.#loaderErrors, coalesced: this.#coalesced },
      encodeErrors: this.#encodeErrors,
      invalidations: this.#invalidations,
      fencedKeys: this.#fences.size,
    };
  }

  /** Waits for background writes, detaches from the bus and closes the L2 driver. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    await this.flush();
    await this.#l2?.driver.close();
  }

  async #fill<T>(
    key: string,
    loader: () => Promise<T | null | undefined>,
    options: GetOptions<T>,
    flight: Flight,
  ): Promise<T | null> {
    try {
      return await this.#lookup(key, loader, options, flight);
    } finally {
      // Always after the flight was registered: an async function runs its finally no sooner than a microtask.
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  async #lookup<T>(
    key: string,
    loader: () => Promise<T | null | undefined>,
    options: GetOptions<T>,
    flight: Flight,
  ): Promise<T | null> {
    const fenced = this.#isFenced(key);
    let fullKey: string | undefined;
    if (this.#l2 !== null && !fenced) {
      fullKey = this.namespace.full(key);
      const text = await this.#l2.get(fullKey);
      if (typeof text === "string") {
        const entry = decodeEntry(this.#serializer, text, options.schema);
        if (entry !== undefined) {
          this.#l2Hits++;
          if (entry.value === null) this.#negativeHits++;
          if (!flight.stale)
            this.#l1?.set(key, entry.value, text.length, this.#l1TtlMs(entry.value, options.ttlSeconds));
          return entry.value;
        }
        this.#decodeErrors++;
      }
      this.#l2Misses++;
    }
    this.#loaderCalls++;
    let loaded: T | null | undefined;
    try {
      loaded = await loader();
    } catch (error) {
      this.#loaderErrors++;
      throw error;
    }
    const value = loaded === undefined ? null : loaded;
    if (!flight.stale && !fenced && !this.#isFenced(key))
      this.#store(key, fullKey, value, options.ttlSeconds);
    return value;
  }

  #store(key: string, fullKey: string | undefined, value: unknown, ttlSeconds: number | undefined): void {
    const text = this.#encode(value);
    if (text === undefined) return;
    this.#l1?.set(key, value, text.length, this.#l1TtlMs(value, ttlSeconds));
    if (this.#l2 === null) return;
    // Fills go in the background: the reader has its value already and L2 failures are no concern of its.
    const write = this.#l2.set(
      fullKey ?? this.namespace.full(key),
      text,
      this.#l2TtlSeconds(value, ttlSeconds),
    );
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  #encode(value: unknown): string | undefined {
    try {
      return encodeEntry(this.#serializer, value);
    } catch {
      this.#encodeErrors++;
      return undefined;
    }
  }

  #l1TtlMs(value: unknown, ttlSeconds: number | undefined): number {
    if (value === null) return this.#negative.l1 * 1000;
    return ttlSeconds === undefined ? Number.POSITIVE_INFINITY : ttlSeconds * 1000;
  }

  #l2TtlSeconds(value: unknown, ttlSeconds: number | undefined): number {
    if (value === null) return this.#negative.l2;
    return ttlSeconds ?? this.#l2Ttl;
  }

  #isFenced(key: string): boolean {
    if (this.#fences.size === 0) return false;
    const fence = this.#fences.get(key);
    if (fence === undefined) return false;
    if (fence.until > performance.now()) return true;
    this.#fences.delete(key);
    return false;
  }

  async #onInvalidation(event: InvalidationEvent): Promise<void> {
    if (event.keys === "all") {
      this.clearLocal();
      this.#heldUntilEcho.clear();
      return;
    }
    const keys = event.keys;
    const held = this.#held(keys);
    if (event.source === "local") {
      // A rolled-back write's message never echoes: the set must not grow with them.
      if (this.#heldUntilEcho.size > 10_000) this.#heldUntilEcho.clear();
      for (const key of held) this.#heldUntilEcho.add(key);
    }
    if (event.source === "local" && event.transactional) {
      const until = performance.now() + this.#fenceTimeoutMs;
      for (const key of keys) {
        const fence = this.#fences.get(key);
        this.#fences.set(key, { count: (fence?.count ?? 0) + 1, until });
      }
    }
    // Every instance drops L1 and L2 on every message, not only the publisher: a load that began before the
    // commit may have refilled L2 with the old value meanwhile, and one more delete per instance is cheap
    // next to serving that value until its TTL.
    await this.delete(keys);
    if (event.source === "echo" && event.transactional) {
      for (const key of keys) {
        const fence = this.#fences.get(key);
        if (fence === undefined) continue;
        if (fence.count <= 1) this.#fences.delete(key);
        else fence.count--;
      }
    }
    if (event.source === "echo") {
      // Held when the local application dropped it, or loaded again since: either way read here.
      this.#dropped(keys.filter((key) => this.#heldUntilEcho.delete(key) || held.includes(key)));
    } else if (event.source !== "local") this.#dropped(held);
  }
}
