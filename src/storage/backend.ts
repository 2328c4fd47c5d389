/**
 * StorageBackend: the metadata store's contract. One implementation runs on
 * PostgreSQL through postgres.js, whether the server is a real PostgreSQL or
 * the embedded PGlite; the contract suite in `test/storage/` runs against both.
 *
 * The backend stores what the registry service hands it: content has already
 * been validated, canonicalised and hashed, and the version (when given) is a
 * valid semver. The backend owns what needs the database to be right:
 * version assignment, idempotent registration, uniqueness under concurrency,
 * lifecycle transitions with their history, and soft/permanent deletion.
 * Failures it can name are RegistryErrors (`not_found`, `version_exists`,
 * `invalid_transition`, `conflict`, `unavailable`).
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
  SearchHit,
  SearchQuery,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../domain/types.ts";

export interface NewSchema {
  subject: string;
  /** A valid semver; absent means "assign the next minor version". */
  version?: string;
  schemaType: SchemaType;
  /** `draft` or `active`. */
  state: SchemaState;
  /** The canonical content; `null` when it lives in the object store. */
  content: unknown | null;
  contentHash: string;
  contentSize: number;
  contentLocation: ContentLocation;
  contentKey: string | null;
  metadata: SchemaMetadata;
}

export interface RegisterOutcome {
  schema: SchemaRecord;
  /** false when the same content was already live under the subject. */
  created: boolean;
}

export interface PopularSchema {
  schemaId: string;
  reads: number;
}

export interface StorageBackend {
  register(input: NewSchema): Promise<RegisterOutcome>;

  getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** `version` is matched without build metadata. */
  getBySubjectVersion(subject: string, version: string, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** The highest version that is not deleted and is `active` or `deprecated`. */
  getLatest(subject: string): Promise<SchemaRecord | null>;
  /** Newest first. Throws `not_found` when the subject has no (visible) version. */
  listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>>;
  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>>;
  search(query: SearchQuery): Promise<Page<SearchHit>>;

  /** Throws `not_found` (missing or soft-deleted) or `invalid_transition`. */
  updateState(ref: SchemaRef, to: SchemaState, reason: string | null): Promise<SchemaRecord>;
  stateHistory(ref: SchemaRef): Promise<StateTransition[]>;
  /** Sets `deleted_at`. Throws `not_found` when missing or already deleted. */
  softDelete(ref: SchemaRef): Promise<SchemaRecord>;
  /** Removes a soft-deleted schema for good. Throws `conflict` when it is not soft-deleted. */
  permanentDelete(ref: SchemaRef): Promise<SchemaRecord>;

  /** Runs `work` in one transaction: everything it does commits or rolls back together. */
  transaction<T>(work: (tx: StorageBackend) => Promise<T>): Promise<T>;

  stats(): Promise<StorageStats>;

  /** Counts a read in memory; flushed to the access log in batches. Never waits on I/O. */
  recordRead(schemaId: string): void;
  /** The most read schemas of the recent past (from `popular_schemas`). */
  popularSchemas(limit: number): Promise<PopularSchema[]>;

  /**
   * Of `keys`, the object-store content keys some schema row points at,
   * soft-deleted rows included (their content must survive until the row is
   * gone). Ask the primary, or inside `transaction()`: a lagging replica could
   * miss a reference and let its object be removed.
   */
  contentKeysReferenced(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Locks an object-store content key until the transaction ends: `shared` to
   * commit a row that points at it, `exclusive` to remove its object. Only
   * inside `transaction()`; see registry/object-content-tier.ts for the protocol.
   */
  lockContentKey(key: string, mode: "shared" | "exclusive"): Promise<void>;

  /** Round trip to the database; throws `unavailable` when it does not answer. */
  ping(): Promise<void>;
  /** Flushes the access log and closes connections. */
  close(): Promise<void>;
}
