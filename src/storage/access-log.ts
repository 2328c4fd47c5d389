/**
 * AccessLog: how often each schema is read, for `popular_schemas` and the
 * cache warm-up. Counting is on every read's path, so it never waits on I/O:
 * reads are counted in memory and written in batches.
 */

export interface PopularSchema {
  schemaId: string;
  reads: number;
}

export interface AccessLog {
  /** Counts one read; returns at once. */
  recordRead(schemaId: string): void;
  /** The most read schemas of the recent past, live ones only. */
  popularSchemas(limit: number): Promise<PopularSchema[]>;
  /** Writes the reads counted so far. Never rejects: a failed write is kept for the next one. */
  flush(): Promise<void>;
}
