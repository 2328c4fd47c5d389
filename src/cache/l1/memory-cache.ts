/**
 * L1: the in-process tier, on lru-cache. Holds decoded values (a hit costs no
 * parsing) and is bounded three ways so that no single shape of traffic can
 * take it over: by entries, by bytes (each entry weighs its serialized size,
 * so one 5 MB schema cannot push out thousands of small ones), and by a cap
 * on a single entry (larger values stay in L2 only).
 *
 * Expiry is absolute (an entry never outlives its TTL however hot it is, so a
 * missed invalidation heals) and idle (an entry nobody read for `idleMs` goes
 * early, which frees memory for what is read). lru-cache's sliding TTL does
 * the idle part; the absolute deadline is kept in the entry.
 *
 * Admission (TinyLFU): once L1 is full, a new key displaces the least
 * recently used one only if it has been read more often lately (frequency
 * sketch). Plain LRU lets every one-off read of a cold schema push out a hot
 * one; under the registry's skewed (80/20) reads the filter keeps L1 for the
 * hot ones: bench/cache/cache-hit-rates.bench.ts measures the L1 share with it
 * and without it. A refused value is still in L2; admission never affects
 * what a read answers, only which tier answers it.
 */
import { LRUCache } from "lru-cache";
import { FrequencySketch, hashKey } from "./frequency-sketch.ts";

export interface MemoryCacheOptions {
  /** Most entries held. Default 10,000 (`CACHE_L1_MAX_ENTRIES`). */
  maxEntries: number;
  /** Most bytes held, counted as serialized size. Default 64 MiB. */
  maxBytes: number;
  /** Largest single entry kept; larger ones are not stored in L1. Default 1 MiB. */
  maxEntryBytes: number;
  /** Absolute lifetime of an entry. Default 3,600,000 ms (`CACHE_L1_TTL_SECONDS`). */
  ttlMs: number;
  /** Entries not read for this long expire early. Default half of `ttlMs`. */
  idleMs: number;
  /** `tinylfu` (default) or `lru` (admit everything). */
  admission: "tinylfu" | "lru";
}

export const DEFAULT_MEMORY_CACHE_OPTIONS: MemoryCacheOptions = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  ttlMs: 3_600_000,
  idleMs: 1_800_000,
  admission: "tinylfu",
};

/** What L1 holds for a key: a value, or `null` for a cached "does not exist". */
export interface MemoryHit {
  readonly value: unknown;
}

interface Slot extends MemoryHit {
  readonly expiresAt: number;
  readonly hash: number;
  /** The entry's weight in the byte bound. */
  readonly size: number;
}

export interface MemoryCacheStats {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  /** Entries pushed out by the entry or byte bound. */
  evictions: number;
  /** Entries that reached their absolute or idle expiry. */
  expirations: number;
  /** Values not stored because they exceeded `maxEntryBytes`. */
  oversized: number;
  /** New keys the admission filter kept out (read less often than what they would displace). */
  rejected: number;
}

export class MemoryCache {
  readonly options: MemoryCacheOptions;
  readonly #lru: LRUCache<string, Slot>;
  readonly #sketch: FrequencySketch | null;
  #evictions = 0;
  #rejected = 0;
  #expirations = 0;
  #oversized = 0;

  constructor(options: Partial<MemoryCacheOptions> = {}) {
    const ttlMs = options.ttlMs ?? DEFAULT_MEMORY_CACHE_OPTIONS.ttlMs;
    this.options = {
      ...DEFAULT_MEMORY_CACHE_OPTIONS,
      idleMs: Math.max(1, Math.floor(ttlMs / 2)),
      ...options,
      ttlMs,
    };
    const { maxEntries, maxBytes, maxEntryBytes, idleMs, admission } = this.options;
    for (const name of ["maxEntries", "maxBytes", "maxEntryBytes", "ttlMs", "idleMs"] as const) {
      const value = this.options[name];
      if (!Number.isInteger(value) || value <= 0)
        throw new RangeError(`L1 ${name} must be a positive integer`);
    }
    this.#sketch = admission === "tinylfu" ? new FrequencySketch(maxEntries) : null;
    this.#lru = new LRUCache<string, Slot>({
      max: maxEntries,
      maxSize: maxBytes,
      maxEntrySize: Math.min(maxEntryBytes, maxBytes),
      ttl: idleMs,
      updateAgeOnGet: true,
      // Lazy expiry: no timer per entry; expired entries go when touched or evicted.
      ttlAutopurge: false,
      dispose: (_slot, _key, reason) => {
        if (reason === "evict") this.#evictions++;
        else if (reason === "expire") this.#expirations++;
      },
    });
  }

  get(key: string): MemoryHit | undefined {
    const slot = this.#lru.get(key);
    if (slot === undefined) {
      this.#sketch?.increment(hashKey(key));
      return undefined;
    }
    this.#sketch?.increment(slot.hash);
    if (slot.expiresAt <= performance.now()) {
      this.#lru.delete(key);
      this.#expirations++;
      return undefined;
    }
    return slot;
  }

  /**
   * Stores `value` (`null` = known missing) weighing `size` bytes for at most
   * `ttlMs`. Returns false when the value is too large for L1 or the admission
   * filter keeps it out; any older value under the key is dropped then, so L1
   * never answers with it.
   */
  set(key: string, value: unknown, size: number, ttlMs: number = this.options.ttlMs): boolean {
    const weight = Math.max(1, Math.ceil(size));
    if (weight > this.#lru.maxEntrySize) {
      this.#oversized++;
      this.#lru.delete(key);
      return false;
    }
    const hash = hashKey(key);
    if (this.#sketch !== null && !this.#admit(key, hash, weight)) {
      this.#rejected++;
      return false;
    }
    const lifetime = Math.min(ttlMs, this.options.ttlMs);
    this.#lru.set(
      key,
      { value, expiresAt: performance.now() + lifetime, hash, size: weight },
      { size: weight, ttl: Math.min(lifetime, this.options.idleMs) },
    );
    return true;
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Whether an entry (live or not yet purged) is held under `key`; no recency, no frequency counted. */
  has(key: string): boolean {
    return this.#lru.has(key, { updateAgeOnHas: false });
  }

  /**
   * A key already held is always replaced; a new one must have been read more
   * often lately than every entry it would push out (with no reads on either
   * side to go on, L1 behaves as a plain LRU). Those are the least recently
   * used entries, as many as it takes to stay within both bounds: one for the
   * entry bound, possibly several for the byte bound (a large schema arriving
   * in a full L1 would otherwise push out many hot small ones unopposed).
   */
  #admit(key: string, hash: number, weight: number): boolean {
    if (this.#lru.has(key)) return true;
    let entries = this.#lru.size;
    let bytes = this.#lru.calculatedSize;
    const fits = () => entries < this.options.maxEntries && bytes + weight <= this.options.maxBytes;
    if (fits()) return true;
    const candidate = this.#sketch!.estimate(hash);
    for (const victim of this.#lru.rkeys()) {
      const victimSlot = this.#lru.peek(victim, { allowStale: true });
      if (victimSlot === undefined) continue;
      const victimReads = this.#sketch!.estimate(victimSlot.hash);
      if (victimReads > candidate || (victimReads === candidate && candidate > 0)) return false;
      entries--;
      bytes -= victimSlot.size;
      if (fits()) return true;
    }
    return true;
  }

  clear(): void {
    this.#lru.clear();
  }

  stats(): MemoryCacheStats {
    return {
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      evictions: this.#evictions,
      expirations: this.#expirations,
      oversized: this.#oversized,
      rejected: this.#rejected,
    };
  }
}
