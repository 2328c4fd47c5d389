/**
 * The query-result cache: pages of `search`, `listVersions` and
 * `listSubjects` kept in an L1 of their own (in-process, never Redis) for a
 * few seconds, so that a burst of identical fuzzy searches costs PostgreSQL
 * one trigram scan instead of one each.
 *
 * A result depends on every row it could have matched, so no key can say
 * which writes make it wrong. Instead the cache has a generation: any schema
 * change this instance makes (the change listener, before the write is
 * answered) or hears of on the bus (another instance's commit, or a resync)
 * moves it on, and an entry is only ever looked up under the current
 * generation. The writer therefore never reads a result from before its own
 * write, and other instances follow within the bus's delivery time, as the
 * schema cache does. A load that began before the change finishes under its
 * old generation's key, so it is never served afterwards either.
 *
 * The entries live in a TieredCache without L2: single flight per key (100
 * concurrent identical misses run one query), bounded in entries and bytes
 * apart from the schemas' L1, counted as tier `query` in `/stats` and
 * `/metrics`.
 */

import type { SchemaChangeListener } from "../domain/schema-changes.ts";
import { type CacheStats, TieredCache } from "./index.ts";

/** How long a result may be served at most, absent any change. */
export const DEFAULT_QUERY_TTL_MS = 3_000;

export interface QueryCacheBounds {
  maxEntries: number;
  maxBytes: number;
  /** A larger page (a search with content, say) is loaded each time. */
  maxEntryBytes: number;
  ttlMs: number;
}

/** What the service asks of it; `passThroughQueries` when there is no cache. */
export interface QueryResults {
  /** The result of `load` for `kind` and `query`: from the cache, or loaded (once for concurrent callers). */
  cached<T>(kind: string, query: object, load: () => Promise<T>): Promise<T>;
}

export const passThroughQueries: QueryResults = {
  cached: (_kind, _query, load) => load(),
};

/**
 * Bounds carved for the query cache next to the schemas' L1 (from
 * CACHE_L1_MAX_ENTRIES and CACHE_L1_MAX_BYTES); null when L1 is off, and
 * then no result is cached. Pages are a few KiB (20 summaries), so a tenth
 * of the entries and at most 8 MiB hold every distinct query of a busy
 * few seconds.
 */
export function queryCacheBounds(
  l1: { maxEntries: number; maxBytes: number },
  ttlMs: number = DEFAULT_QUERY_TTL_MS,
): QueryCacheBounds | null {
  if (l1.maxEntries <= 0 || l1.maxBytes <= 0 || ttlMs <= 0) return null;
  const maxEntries = Math.max(16, Math.min(1_000, Math.floor(l1.maxEntries / 10)));
  const maxBytes = Math.min(8 * 1024 * 1024, Math.floor(l1.maxBytes / 8));
  const maxEntryBytes = Math.floor(maxBytes / 16);
  return maxEntryBytes > 0 ? { maxEntries, maxBytes, maxEntryBytes, ttlMs } : null;
}

/** The query's fields in a fixed order, `undefined` ones left out: equal queries, equal keys. */
export function normaliseQuery(query: object): string {
  return JSON.stringify(query, (_key, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
    return sorted;
  });
}

export class QueryResultCache implements QueryResults {
  readonly bounds: QueryCacheBounds;
  readonly #cache: TieredCache;
  #generation = 0;

  constructor(bounds: QueryCacheBounds) {
    this.bounds = bounds;
    this.#cache = new TieredCache({
      l1: {
        maxEntries: bounds.maxEntries,
        maxBytes: bounds.maxBytes,
        maxEntryBytes: bounds.maxEntryBytes,
        ttlMs: bounds.ttlMs,
        idleMs: bounds.ttlMs,
        // Entries live seconds: a frequency filter would only keep a new query's first answers out.
        admission: "lru",
      },
      l2: null,
    });
  }

  get generation(): number {
    return this.#generation;
  }

  cached<T>(kind: string, query: object, load: () => Promise<T>): Promise<T> {
    const key = `${this.#generation}:${kind}:${normaliseQuery(query)}`;
    return this.#cache.get(key, load) as Promise<T>;
  }

  /** A schema changed somewhere: no result cached so far is served again. */
  bump(): void {
    this.#generation++;
    // The generation alone keeps old results from being served; dropping them frees their room at once.
    this.#cache.clearLocal();
  }

  /** Moves the generation on for every change this instance commits. */
  listener(): SchemaChangeListener {
    return {
      schemaChanged: async () => {
        this.bump();
      },
    };
  }

  stats(): CacheStats {
    return this.#cache.stats();
  }

  close(): Promise<void> {
    return this.#cache.close();
  }
}
