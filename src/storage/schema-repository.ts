/**
 * SchemaRepository: the metadata store's record of schemas. It stores what the
 * registry service hands it: content has already been validated,
 * canonicalised and hashed, and the version (when given) has passed
 * `isSemVer`. It owns what needs the database to be right: version
 * assignment, idempotent registration, uniqueness under concurrency,
 * lifecycle transitions with their history, and soft/permanent deletion.
 * Failures it can name are RegistryErrors (`not_found`, `version_exists`,
 * `invalid_transition`, `conflict`, `unavailable`).
 *
 * The method names are also the `operation` label of the query-duration
 * metric (app/instrumented-storage.ts), which dashboards select on.
 */
import type {
  ContentLocation,
  ListVersionsOptions,
  Page,
  PageRequest,
  ReadOptions,
  SchemaMetadata,
  SchemaRecord,
  SchemaRef,
  SchemaState,
  SchemaType,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../domain/types.ts";
import type { ContentKeyLocks } from "./content-key-locks.ts";

/**
 * A row to register: the record's fields that the caller decides. `content`
 * is the canonical content, null when it lives in the object store; the state
 * is `draft` or `active`; without a version the next minor is assigned.
 */
export type NewSchema = { version?: string } & Pick<
  SchemaRecord,
  | "subject"
  | "schemaType"
  | "state"
  | "content"
  | "contentHash"
  | "contentSize"
  | "contentLocation"
  | "contentKey"
  | "metadata"
>;

export interface RegisterOutcome {
  schema: SchemaRecord;
  /** false when the same content was already live under the subject. */
  created: boolean;
}

/** What the work of a transaction runs its statements through: all of it commits or rolls back together. */
export interface SchemaTransaction {
  schemas: SchemaRepository;
  /** Content-key locks last until this transaction ends. */
  contentLocks: ContentKeyLocks;
}

export interface SchemaRepository {
  /**
   * With no version, the next minor of the subject's highest version (deleted
   * ones included) is assigned, 1.0.0 for a new subject; the rule lives in
   * the database's registry_register, where the subject's lock is held.
   */
  register(input: NewSchema): Promise<RegisterOutcome>;

  getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** `version` is matched without build metadata. */
  getBySubjectVersion(subject: string, version: string, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** The highest version that is not deleted and is `active` or `deprecated`. */
  getLatest(subject: string): Promise<SchemaRecord | null>;
  /** Newest first. Throws `not_found` when the subject has no (visible) version. */
  listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>>;
  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>>;

  /** Throws `not_found` (missing or soft-deleted) or `invalid_transition`. */
  updateState(ref: SchemaRef, to: SchemaState, reason: string | null): Promise<SchemaRecord>;
  stateHistory(ref: SchemaRef): Promise<StateTransition[]>;
  /** Sets `deleted_at`. Throws `not_found` when missing or already deleted. */
  softDelete(ref: SchemaRef): Promise<SchemaRecord>;
  /** Removes a soft-deleted schema for good. Throws `conflict` when it is not soft-deleted. */
  permanentDelete(ref: SchemaRef): Promise<SchemaRecord>;

  /**
   * Runs `work` in one transaction on the primary, its reads included (they
   * see its own writes). Inside a transaction, a nested one is a savepoint.
   * The work's own errors come back as they were thrown.
   */
  transaction<T>(work: (tx: SchemaTransaction) => Promise<T>): Promise<T>;

  /** Live schemas by state; `deletedSchemas` and the byte counts include soft-deleted rows, which still hold storage. */
  stats(): Promise<StorageStats>;
}
