/**
 * The cache's figures as `GET /api/v1/stats` reports them, per tier: hits,
 * misses, hit rate (null before the first lookup), evictions, errors and the
 * L2 circuit breaker's state. Derived in this one place from the tiered
 * caches' own `stats()`; `/metrics` reads those directly.
 */
import type { CacheStats } from "./index.ts";

export interface CacheTierReport {
  hits: number;
  misses: number;
  /** hits / (hits + misses); null before the first lookup. */
  hitRate: number | null;
  evictions?: number;
  errors?: number;
  /** The circuit breaker in front of the tier (`closed`, `open`, `half_open`), when it has one. */
  breaker?: "closed" | "open" | "half_open";
}

export interface CacheReport {
  /** By tier name (`l1`, `l2`, and `content`, `query` once used). */
  tiers: Record<string, CacheTierReport>;
  /** Share of schema lookups answered by any tier. */
  hitRate: number | null;
}

function rate(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}

/**
 * The cache's figures as `/api/v1/stats` reports them (hit rates null before
 * any lookup); with `content`, once it has been used, the object-store
 * content's own L1 as tier `content` (outside the overall hit rate, which is
 * the schemas'); with `query`, likewise the search and list results as tier `query`.
 */
export function toCacheReport(stats: CacheStats, content?: CacheStats, query?: CacheStats): CacheReport {
  const tiers: Record<string, CacheTierReport> = {};
  if (stats.l1 !== null) {
    tiers.l1 = {
      hits: stats.l1.hits,
      misses: stats.l1.misses,
      hitRate: rate(stats.l1.hits, stats.l1.misses),
      evictions: stats.l1.evictions,
      errors: 0,
    };
  }
  if (stats.l2 !== null) {
    tiers.l2 = {
      hits: stats.l2.hits,
      misses: stats.l2.misses,
      hitRate: rate(stats.l2.hits, stats.l2.misses),
      errors: stats.l2.errors + stats.l2.decodeErrors,
      breaker: stats.l2.breaker.state,
    };
  }
  // Listed once used: most deployments have no object store, and their report stays as it was.
  if (content?.l1 && content.l1.hits + content.l1.misses > 0) {
    tiers.content = {
      hits: content.l1.hits,
      misses: content.l1.misses,
      hitRate: rate(content.l1.hits, content.l1.misses),
      evictions: content.l1.evictions,
      errors: content.loader.errors,
    };
  }
  // Search and list results (query-result-cache.ts), likewise once used and outside the overall rate.
  if (query?.l1 && query.l1.hits + query.l1.misses > 0) {
    tiers.query = {
      hits: query.l1.hits,
      misses: query.l1.misses,
      hitRate: rate(query.l1.hits, query.l1.misses),
      evictions: query.l1.evictions,
      errors: query.loader.errors,
    };
  }
  return { tiers, hitRate: stats.requests === 0 ? null : stats.hitRate };
}
