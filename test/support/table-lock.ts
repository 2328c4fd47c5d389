/**
 * An ACCESS EXCLUSIVE lock on a table held by a session of the test's own,
 * so the registry's statements on it wait: to see operations in flight, or a
 * database that looks stuck. The lock is held from a transaction on `sql`
 * (give it a connection the registry does not use) until `release()`.
 */
import type { Sql } from "postgres";

export interface TableLock {
  /** Ends the holding transaction and waits until it has ended; calling it again does no more. */
  release(): Promise<void>;
}

/** Resolves once the lock is taken. */
export async function holdTableLock(sql: Sql, table: string): Promise<TableLock> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holding = sql.begin(async (tx) => {
    await tx`LOCK TABLE ${tx(table)} IN ACCESS EXCLUSIVE MODE`;
    locked();
    await released;
  });
  await Promise.race([isLocked, holding]);
  return {
    async release() {
      release();
      await holding;
    },
  };
}
