/**
 * ContentKeyLocks: the database's half of the object-store protocol (see
 * content/object-content-tier.ts). A row is committed under a shared lock on
 * its content key, and an object is removed under an exclusive one after
 * checking that no row points at it, so no row ever commits pointing at an
 * object that is gone.
 */

import type { SchemaRepository } from "./schema-repository.ts";

export interface ContentKeyLocks {
  /**
   * Of `keys`, the object-store content keys some schema row points at,
   * soft-deleted rows included (their content must survive until the row is
   * gone). Always answered by the primary (or inside the transaction): a
   * lagging replica could miss a reference and let its object be removed.
   */
  contentKeysReferenced(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Locks an object-store content key until the transaction ends: `shared` to
   * commit a row that points at it, `exclusive` to remove its object. Only on
   * the locks a transaction hands its work; elsewhere it throws `internal`.
   */
  lockContentKey(key: string, mode: "shared" | "exclusive"): Promise<void>;
}

/**
 * The locks as the object-store content tier uses them: work in one
 * transaction that holds a key's lock, handed that transaction's repository
 * and a reference check inside it.
 */
export function contentKeyGuard(storage: { schemas: SchemaRepository; contentLocks: ContentKeyLocks }) {
  return {
    underLock<T>(
      key: string,
      mode: "shared" | "exclusive",
      work: (
        tx: SchemaRepository,
        referenced: (keys: readonly string[]) => Promise<Set<string>>,
      ) => Promise<T>,
    ): Promise<T> {
      return storage.schemas.transaction(async (tx) => {
        await tx.contentLocks.lockContentKey(key, mode);
        return work(tx.schemas, (keys) => tx.contentLocks.contentKeysReferenced(keys));
      });
    },
    referenced: (keys: readonly string[]) => storage.contentLocks.contentKeysReferenced(keys),
  };
}
