/**
 * Read counting for `popular_schemas`. A read only bumps a counter in memory;
 * a background timer (and close()) hands the counters to the database in one
 * multi-row upsert per batch. A failed flush is logged and counted, and its
 * counts are put back for the next attempt while memory allows; it never
 * reaches a reader.
 */

import { backgroundInterval } from "../../runtime/timers.ts";
import { isUuid } from "./schema-rows.ts";

export type WriteCounts = (schemaIds: string[], reads: number[]) => Promise<void>;

export interface AccessLogOptions {
  /** How often pending counts are written. */
  flushIntervalMs: number;
  /** Distinct schemas held before a flush starts early, and the cap when failed counts are kept. */
  maxPending: number;
  /** Schemas per upsert statement. */
  batchSize: number;
  onError: (error: unknown) => void;
  /** Called after counts reached the database (the popular view is then stale). */
  onFlushed: () => void;
}

export class AccessLog {
  private pending = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private failedFlushes = 0;

  constructor(
    private readonly write: WriteCounts,
    private readonly options: AccessLogOptions,
  ) {}

  /** Flushes that failed since start; exposed for metrics and tests. */
  get failures(): number {
    return this.failedFlushes;
  }

  get pendingSchemas(): number {
    return this.pending.size;
  }

  record(schemaId: string): void {
    // An id that is not a UUID would make the whole batch fail its cast.
    if (!isUuid(schemaId)) return;
    this.pending.set(schemaId, (this.pending.get(schemaId) ?? 0) + 1);
    if (this.pending.size >= this.options.maxPending) void this.flush();
  }

  start(): void {
    this.timer ??= backgroundInterval(() => void this.flush(), this.options.flushIntervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Writes everything recorded before the call. Flushes run one after another,
   * so counts are never written twice or raced; the returned promise never rejects.
   */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.writePending());
    return this.chain;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch];
    let written = 0;
    try {
      for (let start = 0; start < entries.length; start += this.options.batchSize) {
        const slice = entries.slice(start, start + this.options.batchSize);
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
      if (current === undefined && this.pending.size >= this.options.maxPending) continue;
      this.pending.set(id, (current ?? 0) + reads);
    }
  }
}
