/**
 * Where the storage parts send their statements: a pair of handles. Writes,
 * transactions, content-key checks and the access log's writes go to
 * `primary`; every other read goes through `reader`, which picks the server
 * for each read. Without replicas (and inside a transaction) both are the
 * same connection; with them, read-replicas.ts supplies a reader that asks
 * the WAL-position logic of read-routing.ts.
 */
import type { Db } from "./pool.ts";

export interface ReadHandle {
  /**
   * Runs `query` on the server chosen for this read. A replica that fails the
   * read, or whose answer `missed` says may just be lagging (a lookup that
   * found nothing), has it run again on the primary.
   */
  run<T>(query: (db: Db) => Promise<T>, missed?: (result: T) => boolean): Promise<T>;
  /** A write on the primary returned (committed or not): the reads that follow must see it. */
  wrote(): void;
}

export interface DbHandles {
  readonly primary: Db;
  readonly reader: ReadHandle;
}

/** Both handles on one connection: no replicas, or the connection of a transaction. */
export function primaryOnly(db: Db): DbHandles {
  return {
    primary: db,
    reader: {
      run: (query) => query(db),
      wrote() {},
    },
  };
}
