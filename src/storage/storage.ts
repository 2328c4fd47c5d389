/**
 * Storage: the metadata store as the rest of the registry sees it, one part
 * per job. PostgreSQL (a real server or the embedded PGlite) implements every
 * part (postgres/postgres-storage.ts); the contract suite in `test/storage/`
 * runs against both.
 *
 *   schemas        SchemaRepository: register, reads, lists, state changes,
 *                  deletes, history, transactions, statistics
 *   search         SchemaSearch: text and metadata search
 *   reads          AccessLog: read counting and the most read schemas
 *   contentLocks   ContentKeyLocks: the object-store content's reference checks
 *   settings       SettingsStore: compatibility level, semver policy and mode,
 *                  global and per subject
 *   identity       IdentityStore: content ids, integer versions and references
 *                  (Confluent's identity model)
 *   audit          AuditLog: who changed what; the write methods above record
 *                  their entries in their own transaction when given a WriteContext
 *
 * Opening the pool and applying migrations are steps of their own, taken by
 * the composition root before the storage is built (postgres/pool.ts,
 * postgres/migrator.ts).
 */
import type { AccessLog } from "./access-log.ts";
import type { AuditLog } from "./audit-log.ts";
import type { ContentKeyLocks } from "./content-key-locks.ts";
import type { IdentityStore } from "./identity-store.ts";
import type { SchemaRepository } from "./schema-repository.ts";
import type { SchemaSearch } from "./schema-search.ts";
import type { SettingsStore } from "./settings-store.ts";

export type { AccessLog, PopularSchema } from "./access-log.ts";
export type { AuditLog, NewAuditEntry } from "./audit-log.ts";
export type { ContentKeyLocks } from "./content-key-locks.ts";
export type { IdentifiedRecord, IdentityStore } from "./identity-store.ts";
export type {
  EvolutionContext,
  NewSchema,
  RegisterOptions,
  RegisterOutcome,
  SchemaRepository,
  SchemaTransaction,
} from "./schema-repository.ts";
export type { SchemaSearch } from "./schema-search.ts";
export type { SettingsStore } from "./settings-store.ts";

export interface Storage {
  readonly schemas: SchemaRepository;
  readonly search: SchemaSearch;
  readonly reads: AccessLog;
  readonly contentLocks: ContentKeyLocks;
  readonly settings: SettingsStore;
  readonly identity: IdentityStore;
  readonly audit: AuditLog;
  /** Round trip to the primary; throws `unavailable` when it does not answer. */
  ping(): Promise<void>;
  /** Writes the counted reads, stops the background work and closes every pool. */
  close(): Promise<void>;
}
