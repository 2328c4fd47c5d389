/**
 * SchemaRepository: the metadata store's record of schemas. It stores what the
 * registry service hands it: content has already been validated,
 * canonicalised and hashed, and the version, derived by the service from the
 * compatibility verdict, has passed `isSemVer`. It owns what needs the
 * database to be right: idempotent registration, uniqueness under
 * concurrency, the guard against a subject that moved since it was checked,
 * lifecycle transitions with their history, and soft/permanent deletion.
 * Failures it can name are RegistryErrors (`not_found`, `version_exists`,
 * `invalid_transition`, `conflict`, `unavailable`).
 *
 * The method names are also the `operation` label of the query-duration
 * metric (app/instrumented-storage.ts), which dashboards select on.
 */

import type { WriteContext } from "../domain/audit.ts";
import type { EffectiveSettings } from "../domain/compatibility/index.ts";
import type { RegistryError } from "../domain/errors.ts";
import type { Mode } from "../domain/modes.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
  ReadOptions,
  SchemaRecord,
  SchemaRef,
  SchemaReference,
  SchemaState,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../domain/types.ts";
import type { ContentKeyLocks } from "./content-key-locks.ts";

/** How a state change or soft delete is guarded beyond the row's own rules. */
export interface LifecycleWriteOptions {
  /**
   * Refuse with `read_only` when the mode in force for the schema's subject
   * (or, for a schema that does not exist, the registry's) is READONLY or
   * READONLY_OVERRIDE: decided in the write's own statement, on the modes as
   * they are when the row is locked, before `not_found` or any row rule.
   */
  checkMode?: boolean;
}

/** A state change or a soft delete of one schema, as `applyLifecycle` takes them. */
export type LifecycleRequest = {
  ref: SchemaRef;
  audit?: WriteContext | undefined;
  /** Refuse with `read_only` under a read-only mode (see LifecycleWriteOptions). */
  checkMode: boolean;
} & ({ kind: "state"; to: SchemaState; reason: string | null } | { kind: "delete" });

/**
 * One request's outcome: the changed row, or its refusal (a RegistryError);
 * `again` when another request of the same call took its row (send it in a
 * later call), `alone` when another transaction holds its row (send it in a
 * call of its own, which waits for the lock).
 */
export type LifecycleOutcome = SchemaRecord | RegistryError | "again" | "alone";

/**
 * A row to register: the record's fields that the caller decides. `content`
 * is the content value, null when it lives in the object store; `contentText`
 * the content as registered, as JSON text (a .proto source as a JSON string),
 * null for object-store content; the state is `draft` or `active`. The
 * version is decided by the caller (the registry derives it from the
 * compatibility verdict).
 */
export type NewSchema = {
  contentText: string | null;
  /** Versions of other subjects the schema uses (none when absent); part of its content id. */
  references?: SchemaReference[];
  /** IMPORT: the content id to keep (refused when it names other content). */
  contentId?: number;
  /** IMPORT: the subject's integer version to take (refused when taken). */
  subjectVersion?: number;
} & Pick<
  SchemaRecord,
  | "subject"
  | "version"
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

export interface RegisterOptions {
  /**
   * The subject's head (the highest global_id of its rows, deleted ones
   * included; 0 for a new subject) when the caller checked the candidate
   * against it. A subject that has gained a row since makes the register
   * throw `conflict` with `details.reason` "subject_changed" (check again).
   */
  expectedHead?: number;
  /** Records the register in the audit log, in the same statement, when it creates a row. */
  audit?: WriteContext;
}

/**
 * What a register decides on, read in one round trip: the settings in force,
 * the subject's head and highest version, a live row holding the same content,
 * and the live versions to compare against.
 */
export interface EvolutionContext {
  settings: EffectiveSettings;
  /** The highest global_id of the subject's rows, deleted ones included; 0 for a new subject. */
  head: number;
  /** The subject's highest version, deleted ones included: the base of the next number. */
  highestVersion: string | null;
  /** The subject's own mode and the global one (null: not set), so a register needs no other read. */
  modes: { subject: Mode | null; global: Mode | null };
  /** The live row with the candidate's content hash, if there is one (a repeated register). */
  existing: SchemaRecord | null;
  /**
   * Live (not deleted) versions with their content, newest first: every one
   * under a transitive level, the latest alone otherwise (the version
   * derivation compares with it under every level, NONE included).
   */
  live: SchemaRecord[];
}

export interface SchemaRepository {
  /**
   * Inserts the row with its first history entry under the subject's lock;
   * answers the live row with the same content instead when there is one.
   * `version_exists` when the version is taken by other content.
   */
  register(input: NewSchema, options?: RegisterOptions): Promise<RegisterOutcome>;

  /**
   * The context of a register or dry run of `contentHash` under `subject`;
   * `defaults` are the configured settings, used where neither the subject
   * nor the global settings say.
   */
  evolutionContext(
    subject: string,
    contentHash: string,
    defaults: EffectiveSettings,
  ): Promise<EvolutionContext>;

  getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** `version` is matched without build metadata. */
  getBySubjectVersion(subject: string, version: string, options?: ReadOptions): Promise<SchemaRecord | null>;
  /** The highest version that is not deleted and is `active` or `deprecated`. */
  getLatest(subject: string): Promise<SchemaRecord | null>;
  /** Newest first. Throws `not_found` when the subject has no (visible) version. */
  listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>>;
  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>>;

  /**
   * Throws `not_found` (missing or soft-deleted) or `invalid_transition`.
   * The write methods given `audit` record an audit entry in their own transaction.
   */
  updateState(
    ref: SchemaRef,
    to: SchemaState,
    reason: string | null,
    audit?: WriteContext,
    options?: LifecycleWriteOptions,
  ): Promise<SchemaRecord>;
  stateHistory(ref: SchemaRef): Promise<StateTransition[]>;
  /** Sets `deleted_at`. Throws `not_found` when missing or already deleted. */
  softDelete(ref: SchemaRef, audit?: WriteContext, options?: LifecycleWriteOptions): Promise<SchemaRecord>;
  /**
   * State changes and soft deletes, several at once: one statement and one
   * commit for all of them (a group commit), one outcome per request, in
   * order, each as `updateState` or `softDelete` would have answered it. It
   * throws only when the statement failed as a whole, and then nothing of it
   * stays.
   */
  applyLifecycle(requests: readonly LifecycleRequest[]): Promise<LifecycleOutcome[]>;
  /** Removes a soft-deleted schema for good. Throws `conflict` when it is not soft-deleted. */
  permanentDelete(ref: SchemaRef, audit?: WriteContext): Promise<SchemaRecord>;

  /**
   * Runs `work` in one transaction on the primary, its reads included (they
   * see its own writes). Inside a transaction, a nested one is a savepoint.
   * The work's own errors come back as they were thrown.
   */
  transaction<T>(work: (tx: SchemaTransaction) => Promise<T>): Promise<T>;

  /** Live schemas by state; `deletedSchemas` and the byte counts include soft-deleted rows, which still hold storage. */
  stats(): Promise<StorageStats>;
}
