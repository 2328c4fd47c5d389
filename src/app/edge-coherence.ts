/**
 * How an edge node's L1 learns of other nodes' writes without LISTEN/NOTIFY
 * (an isolate holds no connection between requests): a generation stamp in
 * L2 (Upstash). Every committed change writes a new stamp after its commit;
 * a node reads the stamp at most once per `intervalMs`, before serving the
 * request that comes due, and drops its L1 (schemas and query results) when
 * the stamp moved. So a node serves a cached answer at most `intervalMs`
 * after another node's write committed (plus the L2 round trip), and an L1
 * hit between two checks costs no I/O at all.
 *
 * While no stamp is known (an isolate's first requests, or the last check
 * could not read it) requests do not wait for the check: L1 then holds
 * nothing a stamp vouches for, so the check runs beside them and drops what
 * they cached once the stamp is known, since that may predate a write the
 * stamp already counts. A new isolate's first read thus costs one L2 round
 * trip, not two.
 *
 * L2 itself needs no stamp: a write deletes the keys it changed there, which
 * every node reads. When L2 does not answer, the node cannot tell, and drops
 * its L1: reads go to PostgreSQL until the stamp can be read again.
 */
import type { GuardedRemote } from "../cache/l2/guarded-remote.ts";
import type { SchemaChangeListener } from "../domain/schema-changes.ts";

/** Default longest time an edge node serves an L1 entry after another node's write, ms. */
export const DEFAULT_EDGE_STALENESS_MS = 1000;
/** The stamp outlives any pause between writes (Upstash evicts it at most this late). */
const STAMP_TTL_SECONDS = 30 * 24 * 3600;

export interface EdgeCoherence {
  /** Stamps a new generation after each committed change. */
  readonly changes: SchemaChangeListener;
  /**
   * Called before each request: undefined when the request need not wait
   * (the last check is recent enough, or no stamp is known yet), else the
   * check to await first.
   */
  fresh(): Promise<void> | undefined;
  /** The check in flight, if any: a host that ends work with its response keeps it alive. */
  pending(): Promise<void> | null;
  /** Checks done and L1 drops they caused, for tests and /metrics. */
  stats(): { checks: number; drops: number };
}

export function createEdgeCoherence(options: {
  remote: GuardedRemote;
  /** The stamp's full L2 key. */
  key: string;
  intervalMs?: number;
  /** Drops this node's L1 (schemas, query results). */
  drop: () => void;
}): EdgeCoherence {
  const intervalMs = options.intervalMs ?? DEFAULT_EDGE_STALENESS_MS;
  let seen: string | null | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | null = null;
  let checks = 0;
  let drops = 0;

  const check = async (): Promise<void> => {
    const started = performance.now();
    const stamp = await options.remote.get(options.key);
    checks++;
    const known = typeof stamp === "string" || stamp === null;
    if (seen === undefined) {
      // What requests cached while no stamp was known is vouched for by none.
      options.drop();
    } else if (!known || stamp !== seen) {
      options.drop();
      drops++;
    }
    seen = known ? stamp : undefined;
    checkedAt = started;
  };

  return {
    changes: {
      async schemaChanged() {
        const stamp = crypto.randomUUID();
        // This node's own L1 was already invalidated by the cache's listener: no need to drop it again.
        if (await options.remote.set(options.key, stamp, STAMP_TTL_SECONDS)) seen = stamp;
      },
    },
    fresh() {
      if (performance.now() - checkedAt < intervalMs) return undefined;
      running ??= check().finally(() => {
        running = null;
      });
      return seen === undefined ? undefined : running;
    },
    pending: () => running,
    stats: () => ({ checks, drops }),
  };
}
