/**
 * ContentKeyLocks on PostgreSQL: transaction-scoped advisory locks keyed by
 * a hash of the content key, and a reference check on the primary (or in the
 * transaction that holds the lock).
 */
import { RegistryError } from "../../domain/errors.ts";
import type { ContentKeyLocks } from "../content-key-locks.ts";
import { toRegistryError } from "./db-errors.ts";
import { type Db, isTransaction } from "./pool.ts";

/** First key of the advisory locks on object-store content keys ("S3"). */
const CONTENT_KEY_LOCKS = 0x5333;

export class PostgresContentKeyLocks implements ContentKeyLocks {
  /** `db` is the primary's pool, or the transaction whose locks these are. */
  constructor(private readonly db: Db) {}

  async contentKeysReferenced(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    try {
      const rows = await this.db<{ content_key: string }[]>`
        SELECT DISTINCT content_key FROM schemas WHERE content_key = ANY(${keys as string[]}::text[])`;
      return new Set(rows.map((row) => row.content_key));
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async lockContentKey(key: string, mode: "shared" | "exclusive"): Promise<void> {
    const db = this.db;
    if (!isTransaction(db)) {
      throw new RegistryError(
        "internal",
        "a content key lock lasts until its transaction ends: take it inside transaction()",
      );
    }
    try {
      // The two-key form: a lock space of its own, apart from registry_register's subject locks.
      if (mode === "shared") {
        await db`SELECT pg_advisory_xact_lock_shared(${CONTENT_KEY_LOCKS}::int4, hashtext(${key}))`;
      } else {
        await db`SELECT pg_advisory_xact_lock(${CONTENT_KEY_LOCKS}::int4, hashtext(${key}))`;
      }
    } catch (error) {
      throw toRegistryError(error);
    }
  }
}
