/**
 * The AccessLog on PostgreSQL. A read only bumps a counter in memory; a
 * background timer (and close()) hands the counters to `schema_access_log` in
 * one multi-row upsert per batch. A failed flush is logged and counted, and
 * its counts are put back for the next attempt while memory allows; it never
 * reaches a reader. `popular_schemas`, the materialized view over the log, is
 * refreshed by the ViewRefresher, told after each flush that wrote something.
 */
import { backgroundInterval } from "../../runtime/timers.ts";
import type { AccessLog, PopularSchema } from "../access-log.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import type { Db } from "./pool.ts";
import { isUuid } from "./schema-rows.ts";

type WriteCounts = (schemaIds: string[], reads: number[]) => Promise<void>;

export interface AccessLogOptions {
  /** How often pending counts are written. Default 5000 ms. */
  flushIntervalMs?: number;
  /** Distinct schemas held before a flush starts early, and the cap when failed counts are kept. Default 50,000. */
  maxPending?: number;
  /** Schemas per upsert statement. Default 5,000. */
  batchSize?: number;
  onError: (error: unknown) => void;
  /** Called after counts reached the database (the popular view is then stale). */
  onFlushed: () => void;
}

export class PostgresAccessLog implements AccessLog {
  private pending = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private failedFlushes = 0;
  private readonly write: WriteCounts;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: DbHandles,
    private readonly options: AccessLogOptions,
  ) {
    this.write = writeCounts(db.primary);
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.maxPending = options.maxPending ?? 50_000;
    this.batchSize = options.batchSize ?? 5_000;
  }

  /** Flushes that failed since start; exposed for metrics and tests. */
  get failures(): number {
    return this.failedFlushes;
  }

  get pendingSchemas(): number {
    return this.pending.size;
  }

  recordRead(schemaId: string): void {
    this.pending.set(schemaId, (this.pending.get(schemaId) ?? 0) + 1);
    if (this.pending.size >= this.maxPending) void this.flush();
  }

  async popularSchemas(limit: number): Promise<PopularSchema[]> {
    try {
      return await this.db.reader.run(async (db) => {
        // Joined to the live table so that deletes show at once, not at the next refresh.
        const rows = await db<{ schema_id: string; reads: string }[]>`
          SELECT p.schema_id, p.reads
          FROM popular_schemas AS p
          JOIN schemas AS s ON s.id = p.schema_id AND s.deleted_at IS NULL
          ORDER BY p.reads DESC, p.schema_id
          LIMIT ${limit}`;
        return rows.map((row) => ({ schemaId: row.schema_id, reads: Number(row.reads) }));
      });
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  /**
   * Writes everything recorded before the call. Flushes run one after another,
   * so counts are never written twice or raced; the returned promise never rejects.
   */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.writePending());
    return this.chain;
  }

  start(): void {
    // The flush's promise is returned (it never rejects) so that an edge isolate, which runs background
    // work after a response rather than on a timer, waits for it before its request ends.
    this.timer ??= backgroundInterval(() => this.flush(), this.flushIntervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // An id that is not a UUID would make the whole batch fail its cast: checked here, once per id and
    // flush, rather than on every read (each single-schema read, L1 hits included, records one).
    const entries = [...batch].filter(([id]) => isUuid(id));
    let written = 0;
    try {
      for (let start = 0; start < entries.length; start += this.batchSize) {
        const slice = entries.slice(start, start + this.batchSize);
        await this.write(
          slice.map(([id]) => id),
          slice.map(([, reads]) => reads),
        );
        written = start + slice.length;
      }
    } catch (error) {
      this.failedFlushes++;
      this.options.onError(error);
      this.restore(entries.slice(written));
    }
    if (written > 0) this.options.onFlushed();
  }

  private restore(entries: [string, number][]): void {
    for (const [id, reads] of entries) {
      const current = this.pending.get(id);
      if (current === undefined && this.pending.size >= this.maxPending) continue;
      this.pending.set(id, (current ?? 0) + reads);
    }
  }
}

function writeCounts(db: Db): WriteCounts {
  return async (ids, reads) => {
    // Reads of schemas deleted meanwhile are dropped by the join instead of
    // failing the batch on the foreign key.
    await db`
      INSERT INTO schema_access_log (schema_id, bucket, reads)
      SELECT r.schema_id, date_trunc('hour', now()), r.reads
      FROM unnest(${ids}::uuid[], ${reads}::bigint[]) AS r (schema_id, reads)
      JOIN schemas AS s ON s.id = r.schema_id
      ON CONFLICT (schema_id, bucket) DO UPDATE SET reads = schema_access_log.reads + excluded.reads`;
  };
}
