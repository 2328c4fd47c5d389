/**
 * Storage on PostgreSQL: every part built over one pair of handles (the
 * primary's pool, and a reader that is that pool or the read replicas), the
 * background work the parts share (access-log flushes, materialized-view
 * refreshes), ping and close. It is handed a pool that is open and migrated
 * (pool.ts, then migrator.ts's `migrate`), and closes it on close().
 */
import type { Storage } from "../storage.ts";
import { PostgresAccessLog } from "./access-log.ts";
import { AuditPruner, PostgresAuditLog } from "./audit-store.ts";
import { PostgresContentKeyLocks } from "./content-key-locks.ts";
import { toRegistryError } from "./db-errors.ts";
import { type DbHandles, primaryOnly } from "./handles.ts";
import { PostgresIdentityStore } from "./identity-store.ts";
import { closePool, type Pool } from "./pool.ts";
import type { ReadReplicas } from "./read-replicas.ts";
import { PostgresSchemaRepository } from "./schema-repository.ts";
import { columnsOf } from "./schema-rows.ts";
import { PostgresSchemaSearch } from "./schema-search.ts";
import { PostgresSettingsStore } from "./settings-store.ts";
import { createViewRefresher, type ViewRefresher } from "./view-refresher.ts";

export interface PostgresStorageOptions {
  /** Where reads go besides the primary (read-replicas.ts); closed with the storage. Default: none. */
  replicas?: ReadReplicas | null;
  /** How often counted reads are written to the access log. Default 5000 ms. */
  accessLogFlushMs?: number;
  /** Delay between a write and the refresh of the materialized views. Default 5000 ms. */
  viewRefreshDebounceMs?: number;
  /** Refresh the views at least this often. Default 300000 ms; 0 disables the schedule. */
  viewRefreshIntervalMs?: number;
  /** See SearchOptions.similarityThreshold. Default 0.4. */
  searchSimilarityThreshold?: number;
  /**
   * A pool of its own for searches, closed with the storage, so a storm of
   * them cannot take the connections point reads and writes wait for.
   * Unused (but still closed) with replicas, which route reads themselves. Default: the primary.
   */
  searchPool?: Pool | null;
  /** Where background failures (access-log flushes, view refreshes) are reported. Default the console. */
  log?: StorageLog;
  /** Audit entries older than this many days are pruned; 0 keeps them forever. Default 365. */
  auditRetentionDays?: number;
  /** How often the audit log is pruned. Default 3,600,000 ms (hourly). */
  auditPruneIntervalMs?: number;
}

export interface StorageLog {
  error(message: string, error: unknown): void;
}

const consoleLog: StorageLog = {
  error: (message, error) => console.error(message, error),
};

interface Parts {
  schemas: PostgresSchemaRepository;
  search: PostgresSchemaSearch;
  reads: PostgresAccessLog;
  contentLocks: PostgresContentKeyLocks;
  settings: PostgresSettingsStore;
  identity: PostgresIdentityStore;
  views: ViewRefresher;
  audit: PostgresAuditLog;
  auditPruner: AuditPruner;
}

export class PostgresStorage implements Storage {
  readonly schemas: PostgresSchemaRepository;
  readonly search: PostgresSchemaSearch;
  readonly reads: PostgresAccessLog;
  readonly contentLocks: PostgresContentKeyLocks;
  readonly settings: PostgresSettingsStore;
  readonly identity: PostgresIdentityStore;
  readonly audit: PostgresAuditLog;
  /** The materialized views' refresher: `refreshNow()` and `failures`, for tests and metrics. */
  readonly views: ViewRefresher;
  /** The audit log's retention step: `pruneNow()`, for tests. */
  readonly auditPruner: AuditPruner;

  /** Use createPostgresStorage, which starts the background work. */
  constructor(
    parts: Parts,
    private readonly primary: Pool,
    private readonly replicas: ReadReplicas | null,
    private readonly searchPool: Pool | null = null,
  ) {
    this.schemas = parts.schemas;
    this.search = parts.search;
    this.reads = parts.reads;
    this.contentLocks = parts.contentLocks;
    this.settings = parts.settings;
    this.identity = parts.identity;
    this.views = parts.views;
    this.audit = parts.audit;
    this.auditPruner = parts.auditPruner;
  }

  async ping(): Promise<void> {
    try {
      await this.primary`SELECT 1`;
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async close(): Promise<void> {
    this.reads.stop();
    await this.views.stop();
    await this.auditPruner.stop();
    // A replica that will not close must not keep the access log from its last flush.
    const replicaFailure = await this.replicas?.close().then(
      () => null,
      (error: unknown) => ({ error }),
    );
    await this.reads.flush();
    if (this.searchPool) await closePool(this.searchPool);
    await closePool(this.primary);
    if (replicaFailure) throw replicaFailure.error;
  }
}

/** Builds the storage on `primary` and starts its background work. */
export function createPostgresStorage(primary: Pool, options: PostgresStorageOptions = {}): PostgresStorage {
  const log = options.log ?? consoleLog;
  const replicas = options.replicas ?? null;
  const handles: DbHandles = replicas ? { primary, reader: replicas } : primaryOnly(primary);
  const columns = columnsOf(primary);
  const searchPool = options.searchPool ?? null;
  const views = createViewRefresher(primary, {
    debounceMs: options.viewRefreshDebounceMs ?? 5000,
    intervalMs: options.viewRefreshIntervalMs ?? 300_000,
    onError: (error) => log.error("materialized view refresh failed", error),
  });
  const reads = new PostgresAccessLog(handles, {
    flushIntervalMs: options.accessLogFlushMs ?? 5000,
    onError: (error) => log.error("access log flush failed", error),
    onFlushed: () => views.markStale(),
  });
  const audit = new PostgresAuditLog(handles);
  const auditPruner = new AuditPruner(audit, {
    retentionDays: options.auditRetentionDays ?? 365,
    intervalMs: options.auditPruneIntervalMs ?? 3_600_000,
    onError: (error) => log.error("audit log pruning failed", error),
  });
  reads.start();
  views.start();
  auditPruner.start();
  const parts: Parts = {
    schemas: new PostgresSchemaRepository(handles, { columns, changed: () => views.markStale() }),
    search: new PostgresSchemaSearch(searchPool && !replicas ? primaryOnly(searchPool) : handles, {
      columns,
      ...(options.searchSimilarityThreshold === undefined
        ? {}
        : { similarityThreshold: options.searchSimilarityThreshold }),
    }),
    reads,
    contentLocks: new PostgresContentKeyLocks(primary),
    settings: new PostgresSettingsStore(handles),
    identity: new PostgresIdentityStore(handles, { columns, changed: () => views.markStale() }),
    views,
    audit,
    auditPruner,
  };
  return new PostgresStorage(parts, primary, replicas, searchPool);
}
