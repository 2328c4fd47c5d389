/**
 * Storage for a test, opened the way the composition root opens it: a pool,
 * the migrations applied on it, then the storage on that pool.
 */
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool, type PoolSettings } from "../../src/storage/postgres/pool.ts";
import {
  createPostgresStorage,
  type PostgresStorage,
  type PostgresStorageOptions,
} from "../../src/storage/postgres/postgres-storage.ts";

export const quiet = { error() {} };

export interface OpenStorageOptions extends PostgresStorageOptions {
  pool?: PoolSettings;
  /** Apply pending migrations first. Default true. */
  migrate?: boolean;
}

export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<PostgresStorage> {
  const { pool: settings, migrate: migrateFirst = true, ...storageOptions } = options;
  const pool = createPool(url, settings);
  if (migrateFirst) {
    try {
      await migrate(pool);
    } catch (error) {
      await closePool(pool, 1);
      throw error;
    }
  }
  return createPostgresStorage(pool, { log: quiet, ...storageOptions });
}
