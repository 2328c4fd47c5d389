/**
 * The registry service: the read and write paths between HTTP and storage.
 *
 * Write: validate (subject, state, version, metadata) → prepare content
 * (size limit, parse, validate, canonicalise, hash) → place content (row or
 * object store) → schemas.register in its transaction → tell the change
 * listener. A failed write discards placed content, so nothing is left behind.
 * Every write method takes the WriteContext of who asks (default: `system`),
 * which the storage records in the audit log inside the write's transaction.
 * Content may also come from a direct upload to the object store (`uploadId`):
 * it is read, then goes through the same path.
 *
 * Read: through a SchemaReader (the repository, or the tiered cache in front of
 * it), then the content store for content the row does not hold. Every schema
 * served counts as a read for the access log.
 */

import { LRUCache } from "lru-cache";
import { passThroughQueries, type QueryResults } from "../cache/query-result-cache.ts";
import type { CacheReport } from "../cache/stats-report.ts";
import { type AuditPage, type AuditQuery, SYSTEM_WRITE, type WriteContext } from "../domain/audit.ts";
import {
  answeredViolations,
  COMPATIBILITY_LEVELS,
  type CompatibilityEngine,
  type CompatibilityLevel,
  type CompatibilityVerdict,
  type CompatibilityViolation,
  createCompatibilityEngine,
  DEFAULT_COMPATIBILITY_LEVEL,
  DEFAULT_SEMVER_POLICY,
  type EffectiveSettings,
  type EvolutionSettings,
} from "../domain/compatibility/index.ts";
import { prepareContent } from "../domain/content.ts";
import type { DataValidator, DataVerdict } from "../domain/data-validation/index.ts";
import { RegistryError } from "../domain/errors.ts";
import { INITIAL_STATES } from "../domain/lifecycle.ts";
import { type Limits, validateMetadata, validateSubject } from "../domain/limits.ts";
import { DEFAULT_MODE, isReadOnly, type Mode, readOnlyError } from "../domain/modes.ts";
import { validateReferences } from "../domain/references.ts";
import { ignoreChanges, type SchemaChange, type SchemaChangeListener } from "../domain/schema-changes.ts";
import { invalidVersion, isSemVer } from "../domain/semver.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
  ResolvedReference,
  SchemaRecord,
  SchemaRef,
  SchemaReference,
  SchemaState,
  SchemaType,
  SearchHit,
  SearchQuery,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../domain/types.ts";
import { type Logger, silentLogger } from "../observability/logger.ts";
import { ignoreRegistryEvents, type RegistryObserver } from "../observability/registry-observer.ts";
import type { NewSchema, RegisterOutcome, Storage } from "../storage/storage.ts";
import { type Admission, unbounded } from "./admission.ts";
import {
  type ContentLink,
  type ContentStore,
  type CreateUploadRequest,
  inlineContentStore,
  type PlacedContent,
  type UploadTicket,
} from "./content-store.ts";
import { type Candidate, type EvolutionDecision, preparedFormsCache, SchemaEvolution } from "./evolution.ts";
import { LifecycleBatcher } from "./lifecycle-batcher.ts";
import type { SchemaReader } from "./schema-reader.ts";
import { describeRef } from "./schema-ref.ts";

export interface RegisterInput {
  subject: string;
  schemaType: SchemaType;
  /** As the client sent it: a JSON value, or a string holding JSON or `.proto` source. */
  content?: unknown;
  /** In place of `content`: a direct upload (`POST /uploads`) holding it as text. */
  uploadId?: string | undefined;
  version?: string | undefined;
  state?: SchemaState | undefined;
  metadata?: unknown;
  /** Versions of other subjects the schema uses; each must exist. */
  references?: unknown;
  /** IMPORT mode: the schema id (content id) to keep; refused outside IMPORT. */
  contentId?: number | undefined;
  /** IMPORT mode: the subject's integer version to take. */
  subjectVersion?: number | undefined;
}

export interface ReadRequest {
  includeDeleted?: boolean;
  /** Load content the row does not hold (object store) rather than link to it. */
  includeContent?: boolean;
}

/** A schema as a single read serves it. */
export interface SchemaView {
  /** `content` is set unless it lives in the object store and was not asked for. */
  schema: SchemaRecord;
  /** A direct URL to the content, when the row does not hold it and it was not loaded. */
  link: ContentLink | null;
}

/** What `GET /schemas/{id}/content` serves. */
export type ContentView =
  | { kind: "value"; schema: SchemaRecord; value: unknown }
  | { kind: "link"; schema: SchemaRecord; link: ContentLink }
  | { kind: "stream"; schema: SchemaRecord; body: ReadableStream<Uint8Array> };

export interface RegistryStats {
  storage: StorageStats;
  /** null when no cache sits in front of the database. */
  cache: CacheReport | null;
}

export interface RegistryServiceOptions {
  storage: Pick<Storage, "schemas" | "search" | "reads" | "settings" | "identity" | "audit">;
  limits: Limits;
  /** The evolution settings where neither a subject nor the global settings say; BACKWARD and advise by default. */
  evolutionDefaults?: EffectiveSettings;
  /** The read path; defaults to the schema repository itself. */
  reader?: SchemaReader;
  /** Where content lives; defaults to the database row. */
  content?: ContentStore;
  /** Told of every committed write; defaults to nobody. */
  changes?: SchemaChangeListener;
  /** Cache figures for `/stats`. */
  cacheStats?: () => CacheReport | null;
  logger?: Logger;
  /** Told of registers, single-schema reads and deletes (metrics); defaults to nobody. */
  observer?: RegistryObserver;
  /** Pages of search and the lists, cached until a change that can alter them; defaults to none. */
  queries?: QueryResults;
  /**
   * Bounds on the database work of searches and lists (what misses the query
   * cache) and of writes; a request over a bound is refused with 503. Default: unbounded.
   */
  admission?: { search?: Admission | null; write?: Admission | null };
}

/** What a dry run of a register answers. */
export interface CompatibilityReport {
  compatible: boolean;
  level: CompatibilityLevel;
  violations: CompatibilityViolation[];
  /** The versions compared against, newest first. */
  checkedVersions: string[];
  /** The version a register of this content would get (the existing one's, for content already live). */
  suggestedVersion: string;
  /** The live schema already holding this content, which a register would answer with. */
  existing: SchemaRecord | null;
}

/** A subject's evolution settings as the config routes show them. */
export interface SubjectSettings {
  subject: string;
  settings: EvolutionSettings;
}

/** Where the documents of a data validation go: a schema by id, or a subject's version (or `latest`). */
export type ValidationTarget = { ref: SchemaRef } | { subject: string; version: string | "latest" };

/** Most documents one validation request may carry. */
export const MAX_VALIDATION_DOCUMENTS = 1000;
/** Compiled validators kept, by content: compiling costs far more than validating. */
const COMPILED_VALIDATORS = 1000;

/** Deepest chain of references resolved for one schema. */
const MAX_REFERENCE_DEPTH = 32;

/** How often a register checks again when other registers of its subject keep committing first. */
const MAX_REGISTER_ATTEMPTS = 5;

/** A register's outcome, with a direct URL when the content lives in the object store. */
export interface RegisterResult extends RegisterOutcome {
  link: ContentLink | null;
}

/** What a register has checked and computed before it asks for a write slot. */
interface PreparedRegister {
  state: SchemaState;
  metadata: ReturnType<typeof validateMetadata>;
  references: SchemaReference[];
  prepared: Awaited<ReturnType<typeof prepareContent>>;
  candidate: Candidate;
}

export class RegistryService {
  readonly limits: Limits;
  private readonly storage: Pick<Storage, "schemas" | "search" | "reads" | "settings" | "identity" | "audit">;
  private readonly engine: CompatibilityEngine;
  private readonly evolution: SchemaEvolution;
  /** Compiled data validators by type, content hash and message: content never changes under its hash. */
  private readonly validators = new LRUCache<string, DataValidator>({ max: COMPILED_VALIDATORS });
  private readonly reader: SchemaReader;
  private readonly content: ContentStore;
  private readonly changes: SchemaChangeListener;
  private readonly cacheStats: () => CacheReport | null;
  private readonly logger: Logger;
  private readonly observer: RegistryObserver;
  private readonly queries: QueryResults;
  private readonly searches: Admission;
  private readonly writes: Admission;
  /** State changes and soft deletes, grouped: each batch is one statement and takes one write slot. */
  private readonly lifecycle: LifecycleBatcher;

  constructor(options: RegistryServiceOptions) {
    this.storage = options.storage;
    this.limits = options.limits;
    this.reader = options.reader ?? options.storage.schemas;
    this.content = options.content ?? inlineContentStore;
    this.changes = options.changes ?? ignoreChanges;
    this.cacheStats = options.cacheStats ?? (() => null);
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer ?? ignoreRegistryEvents;
    this.queries = options.queries ?? passThroughQueries;
    this.searches = options.admission?.search ?? unbounded;
    this.writes = options.admission?.write ?? unbounded;
    this.lifecycle = new LifecycleBatcher((requests) =>
      this.writes.run(() => this.storage.schemas.applyLifecycle(requests)),
    );
    this.engine = createCompatibilityEngine({ prepared: preparedFormsCache() });
    this.evolution = new SchemaEvolution({
      engine: this.engine,
      repository: options.storage.schemas,
      defaults: options.evolutionDefaults ?? {
        compatibility: DEFAULT_COMPATIBILITY_LEVEL,
        semverPolicy: DEFAULT_SEMVER_POLICY,
      },
      loadContent: (record) => this.content.load(record),
      resolveReferences: (references) => this.resolveReferences(references),
    });
  }

  // ---- write path ------------------------------------------------------

  /**
   * Checks and prepares the content, then decides and commits under the
   * write bound, then tells the caches. Only the middle part holds a slot of
   * the bound: the slot stands for database work, and parsing the content or
   * the invalidation's round trips held it for nothing while other writes
   * queued behind them.
   */
  async register(input: RegisterInput, context: WriteContext = SYSTEM_WRITE): Promise<RegisterResult> {
    const prepared = await this.prepareRegister(input);
    const outcome = await this.writes.run(() => this.commitRegister(prepared, input, context));
    this.observer.registered(input.schemaType, outcome.created);
    if (outcome.created) await this.notify({ kind: "registered", schema: outcome.schema });
    if (input.uploadId !== undefined) await this.discardUpload(input.uploadId);
    return { ...outcome, link: await this.linkAfterWrite(outcome.schema) };
  }

  /** The register's checks that need no slot: the input, the references, the content parsed and hashed. */
  private async prepareRegister(input: RegisterInput): Promise<PreparedRegister> {
    if (input.uploadId !== undefined && input.content !== undefined) {
      throw RegistryError.invalidRequest("give either content or upload_id, not both", {
        field: "upload_id",
      });
    }
    validateSubject(input.subject, this.limits);
    let state: SchemaState;
    let metadata: ReturnType<typeof validateMetadata>;
    let references: SchemaReference[];
    let resolved: ResolvedReference[];
    let prepared: Awaited<ReturnType<typeof prepareContent>>;
    try {
      state = input.state ?? "active";
      if (!INITIAL_STATES.includes(state)) {
        throw RegistryError.invalidRequest(
          `a schema is registered as ${INITIAL_STATES.join(" or ")}, not ${state}`,
          { field: "state" },
        );
      }
      if (input.version !== undefined && !isSemVer(input.version)) throw invalidVersion(input.version);
      metadata = validateMetadata(input.metadata ?? {}, this.limits);
      references = validateReferences(input.references);
      resolved = await this.resolveReferences(references);
      const raw = input.uploadId !== undefined ? await this.readUpload(input.uploadId) : input.content;
      // Checks the size limit (413) before spending parser time on the content.
      prepared = await prepareContent(input.schemaType, raw, this.limits, resolved);
    } catch (error) {
      // The modes are read with the evolution context below (one round trip
      // for a register); a register refused before it still answers with the
      // mode's refusal first, as when the mode was checked up front.
      await this.checkRegisterMode(input);
      throw error;
    }
    const candidate: Candidate = {
      subject: input.subject,
      schemaType: prepared.schemaType,
      content: prepared.value,
      contentHash: prepared.contentHash,
      references,
      resolved,
    };
    return { state, metadata, references, prepared, candidate };
  }

  /**
   * The verdict against the subject's versions and the commit, retried when
   * another register of the subject committed in between; an existing schema
   * with the same content is answered as it is (created false).
   */
  private async commitRegister(
    { state, metadata, references, prepared, candidate }: PreparedRegister,
    input: RegisterInput,
    context: WriteContext,
  ): Promise<RegisterOutcome> {
    let decision = await this.decideRegister(candidate, input);
    if (decision.existing) return { schema: decision.existing, created: false };

    const placed = await this.content.place(prepared);
    let outcome: RegisterOutcome;
    try {
      for (let attempt = 1; ; attempt++) {
        const row: NewSchema = {
          subject: input.subject,
          version: input.version ?? decision.suggestedVersion,
          schemaType: input.schemaType,
          state,
          content: placed.content,
          // As registered, so reads give back the key order the client sent; the hash stays order-insensitive.
          contentText: placed.contentLocation === "inline" ? JSON.stringify(prepared.value) : null,
          contentHash: prepared.contentHash,
          contentSize: prepared.contentSize,
          contentLocation: placed.contentLocation,
          contentKey: placed.contentKey,
          metadata,
          references,
          ...(input.contentId === undefined ? {} : { contentId: input.contentId }),
          ...(input.subjectVersion === undefined ? {} : { subjectVersion: input.subjectVersion }),
        };
        try {
          const head = decision.head;
          outcome = await this.content.commit(placed, (tx) =>
            (tx ?? this.storage.schemas).register(row, { expectedHead: head, audit: context }),
          );
          break;
        } catch (error) {
          // Another register of the subject committed after this one was checked: check again against it.
          if (!isSubjectChanged(error) || attempt >= MAX_REGISTER_ATTEMPTS) throw error;
          decision = await this.decideRegister(candidate, input);
          if (decision.existing) {
            await this.discard(placed);
            return { schema: decision.existing, created: false };
          }
        }
      }
    } catch (error) {
      await this.discard(placed);
      throw error;
    }
    // Already registered with its content held elsewhere (inline, say): what was placed for it may go.
    if (!outcome.created && outcome.schema.contentKey !== placed.contentKey) await this.discard(placed);
    return outcome;
  }

  /**
   * A dry run of `register`: the verdict on the content as the subject's next
   * version, the versions it was checked against and the version it would
   * get; nothing is written.
   */
  async checkCompatibility(input: RegisterInput): Promise<CompatibilityReport> {
    validateSubject(input.subject, this.limits);
    if (input.version !== undefined && !isSemVer(input.version)) throw invalidVersion(input.version);
    const references = validateReferences(input.references);
    const resolved = await this.resolveReferences(references);
    const raw = input.uploadId !== undefined ? await this.readUpload(input.uploadId) : input.content;
    const prepared = await prepareContent(input.schemaType, raw, this.limits, resolved);
    const decision = await this.evolution.decide({
      subject: input.subject,
      schemaType: prepared.schemaType,
      content: prepared.value,
      contentHash: prepared.contentHash,
      references,
      resolved,
    });
    // As a register would answer: an incompatible change is the verdict; a compatible one may still be
    // refused for its version (the policy, or a version other content holds).
    if (!decision.existing && decision.verdict.compatible && input.version !== undefined) {
      this.evolution.enforcePolicy(decision, input.version);
      const taken = await this.storage.schemas.getBySubjectVersion(input.subject, input.version, {
        includeDeleted: true,
      });
      if (taken !== null) {
        throw new RegistryError(
          "version_exists",
          `version ${taken.version} of subject ${input.subject} already exists with different content`,
          { subject: input.subject, version: taken.version, existing_id: taken.id },
        );
      }
    }
    return {
      compatible: decision.verdict.compatible,
      level: decision.verdict.level,
      violations: decision.verdict.violations,
      checkedVersions: decision.verdict.checkedVersions,
      suggestedVersion: decision.suggestedVersion,
      existing: decision.existing,
    };
  }

  /**
   * The verdict on a register's candidate, under the modes read with it:
   * refused by a read-only mode or IMPORT's rules; refused (409) when the
   * subject's rules or its semver policy do. An import copies another
   * registry's schemas as they were: no compatibility check to pass.
   */
  private async decideRegister(candidate: Candidate, input: RegisterInput): Promise<EvolutionDecision> {
    const decision = await this.evolution.decide(candidate);
    const importing = this.registerModeRules(
      input,
      modeInForce(decision.modes.subject, decision.modes.global),
    );
    if (importing || decision.existing) return decision;
    const version = input.version;
    if (!decision.verdict.compatible) {
      this.observer.rejected(candidate.schemaType);
      throw incompatible(candidate.subject, decision);
    }
    if (version !== undefined) this.evolution.enforcePolicy(decision, version);
    return decision;
  }

  /** A presigned PUT for a direct upload; `not_found` when this instance has no object store. */
  async createUpload(request: CreateUploadRequest): Promise<UploadTicket> {
    return this.content.createUpload(request);
  }

  async updateState(
    ref: SchemaRef,
    to: SchemaState,
    reason: string | null,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<SchemaView> {
    // The mode is checked in the write's own statement: one round trip, and no window between check and write.
    const schema = await this.lifecycle.submit({
      kind: "state",
      ref,
      to,
      reason,
      audit: context,
      checkMode: true,
    });
    await this.notify({ kind: "state_changed", schema });
    return this.present(schema, {});
  }

  /** Soft delete, or with `permanent` remove a soft-deleted schema for good. */
  async delete(
    ref: SchemaRef,
    options: { permanent: boolean },
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<SchemaRecord> {
    if (options.permanent) {
      await this.checkWritableRef(ref);
      const schema = await this.writes.run(() => this.storage.schemas.permanentDelete(ref, context));
      await this.deleted(schema, true);
      return schema;
    }
    const schema = await this.lifecycle.submit({ kind: "delete", ref, audit: context, checkMode: true });
    await this.deleted(schema, false);
    return schema;
  }

  /**
   * Every live version of a subject soft-deleted, or with `permanent` its
   * soft-deleted ones removed for good; refused while other schemas
   * reference one of them. Answers the rows, by integer version.
   */
  async deleteSubject(
    subject: string,
    options: { permanent: boolean },
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<SchemaRecord[]> {
    validateSubject(subject, this.limits);
    await this.checkWritable(subject);
    const rows = await this.writes.run(() =>
      this.storage.identity.deleteSubject(subject, { permanent: options.permanent, audit: context }),
    );
    for (const schema of rows) await this.deleted(schema, options.permanent);
    return rows;
  }

  /** A deleted row told to the observer and the change listener; a permanent one's content released. */
  private async deleted(schema: SchemaRecord, permanent: boolean): Promise<void> {
    this.observer.deleted(permanent ? "permanent" : "soft");
    await this.notify({ kind: permanent ? "deleted" : "soft_deleted", schema });
    if (!permanent) return;
    try {
      await this.content.release(schema);
    } catch (error) {
      // The row is gone; an object left behind is found by the orphan sweep.
      this.logger.warn("could not release content of a deleted schema", { schema_id: schema.id, error });
    }
  }

  // ---- data validation -------------------------------------------------

  /**
   * Validates `documents` (a model's output, say) against a stored schema,
   * one verdict per document. The schema's validator is compiled once and
   * kept by content hash.
   */
  async validateData(
    target: ValidationTarget,
    documents: readonly unknown[],
    options: { messageName?: string | undefined } = {},
  ): Promise<DataVerdict[]> {
    if (documents.length > MAX_VALIDATION_DOCUMENTS) {
      throw RegistryError.invalidRequest(
        `at most ${MAX_VALIDATION_DOCUMENTS} documents may be validated in one request (got ${documents.length})`,
        { field: "documents", limit: MAX_VALIDATION_DOCUMENTS },
      );
    }
    const view =
      "ref" in target
        ? await this.getSchema(target.ref, { includeContent: true })
        : target.version === "latest"
          ? await this.getLatest(target.subject, { includeContent: true })
          : await this.getVersion(target.subject, target.version, { includeContent: true });
    const { schema } = view;
    if (options.messageName !== undefined && schema.schemaType !== "protobuf") {
      throw RegistryError.invalidRequest(
        `message names a Protobuf message; schema ${schema.id} is ${schema.schemaType === "json" ? "a JSON Schema" : "an Avro schema"}`,
        { field: "message" },
      );
    }
    // The content id, not the hash alone: the same text with other references is another schema.
    const key = `${schema.schemaType}:${schema.contentHash}:${schema.contentId}:${options.messageName ?? ""}`;
    let validator = this.validators.get(key);
    if (validator === undefined) {
      const references = await this.resolveReferences(schema.references);
      // The validators (ajv, avsc, protobufjs) load on the first data validated, not with the registry.
      const { compileDataValidator } = await import("../domain/data-validation/index.ts");
      validator = compileDataValidator(
        schema.schemaType,
        { content: schema.content, ...(references.length === 0 ? {} : { references }) },
        options.messageName === undefined ? {} : { messageName: options.messageName },
      );
      this.validators.set(key, validator);
    }
    const check = validator;
    return documents.map((document) => check.validate(document));
  }

  // ---- evolution settings ----------------------------------------------

  /** The global settings in force (stored ones over the configured defaults). */
  async globalSettings(): Promise<EffectiveSettings> {
    return { ...this.evolution.defaults, ...defined(await this.storage.settings.getGlobal()) };
  }

  async putGlobalSettings(
    settings: EvolutionSettings,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<EffectiveSettings> {
    await this.checkWritable(null);
    await this.storage.settings.putGlobal(checkSettings(settings), context);
    return this.globalSettings();
  }

  /** The subject's own settings; `not_found` when it has none (unless `effective`: the settings in force). */
  async subjectSettings(subject: string, options: { effective: boolean }): Promise<EvolutionSettings> {
    validateSubject(subject, this.limits);
    const own = await this.storage.settings.getSubject(subject);
    if (options.effective) return { ...(await this.globalSettings()), ...defined(own ?? {}) };
    if (own === null) throw noSubjectSettings(subject);
    return own;
  }

  async putSubjectSettings(
    subject: string,
    settings: EvolutionSettings,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<EvolutionSettings> {
    validateSubject(subject, this.limits);
    await this.checkWritable(subject);
    return this.storage.settings.putSubject(subject, checkSettings(settings), context);
  }

  /** Removes the subject's own settings (it follows the global ones again); answers what they were. */
  async deleteSubjectSettings(
    subject: string,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<EvolutionSettings> {
    validateSubject(subject, this.limits);
    await this.checkWritable(subject);
    const removed = await this.storage.settings.deleteSubject(subject, context);
    if (removed === null) throw noSubjectSettings(subject);
    return removed;
  }

  /** Clears the stored global compatibility (the configured default is in force again); answers the level it had. */
  async resetGlobalCompatibility(context: WriteContext = SYSTEM_WRITE): Promise<CompatibilityLevel> {
    await this.checkWritable(null);
    const old = await this.storage.settings.clearGlobalCompatibility(context);
    return old ?? this.evolution.defaults.compatibility;
  }

  /** Clears the subject's own compatibility alone; `not_found` (resource "compatibility") when it had none. */
  async clearSubjectCompatibility(
    subject: string,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<CompatibilityLevel> {
    validateSubject(subject, this.limits);
    await this.checkWritable(subject);
    const old = await this.storage.settings.clearSubjectCompatibility(subject, context);
    if (old === null) {
      throw RegistryError.notFound(`subject ${subject} has no compatibility level of its own`, {
        resource: "compatibility",
        subject,
      });
    }
    return old;
  }

  // ---- modes -------------------------------------------------------------

  /** The mode in force for a subject (its own, else the global one, else READWRITE); null: the registry's. */
  async effectiveMode(subject: string | null): Promise<Mode> {
    const { subject: own, global } = await this.storage.settings.getModes(subject);
    return modeInForce(own, global);
  }

  /** Refuses a write (anything but a change of mode) under READONLY or READONLY_OVERRIDE. */
  private async checkWritable(subject: string | null): Promise<Mode> {
    const mode = await this.effectiveMode(subject);
    if (isReadOnly(mode)) throw readOnlyError(subject, mode);
    return mode;
  }

  /** The mode check for a write addressed by schema id: the schema's subject decides. */
  private async checkWritableRef(ref: SchemaRef): Promise<void> {
    const schema = await this.storage.schemas.getById(ref, { includeDeleted: true });
    // A missing schema is the write's own not_found to answer.
    await this.checkWritable(schema?.subject ?? null);
  }

  /**
   * A register's mode rules: none under a read-only mode; under IMPORT a
   * register brings its schema id (and may bring its version); outside
   * IMPORT it brings neither. Answers whether this register is an import.
   */
  private async checkRegisterMode(input: RegisterInput): Promise<boolean> {
    return this.registerModeRules(input, await this.effectiveMode(input.subject));
  }

  /** checkRegisterMode's rules under `mode`. */
  private registerModeRules(input: RegisterInput, mode: Mode): boolean {
    if (isReadOnly(mode)) throw readOnlyError(input.subject, mode);
    const importing = mode === "IMPORT";
    const explicit = input.contentId !== undefined || input.subjectVersion !== undefined;
    if (!importing && explicit) {
      throw new RegistryError(
        "read_only",
        `subject ${input.subject} is in ${mode} mode: a schema id or version is kept only in IMPORT mode`,
        { resource: "mode", mode, subject: input.subject, reason: "not_import_mode" },
      );
    }
    if (importing && input.contentId === undefined) {
      throw new RegistryError(
        "read_only",
        `subject ${input.subject} is in IMPORT mode: a register brings the schema id to keep`,
        { resource: "mode", mode, subject: input.subject, reason: "import_needs_id" },
      );
    }
    for (const [field, value] of [
      ["id", input.contentId],
      ["version", input.subjectVersion],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647)) {
        throw RegistryError.invalidRequest(`${field} must be a positive integer`, {
          field,
          resource: field === "id" ? "schema" : "version",
        });
      }
    }
    return importing;
  }

  // ---- references --------------------------------------------------------

  /**
   * The contents a schema's references name, with theirs (transitively),
   * dependencies first, each under the name the referencing schema uses.
   * A reference to a version that does not exist (or is soft-deleted) is
   * `invalid_schema` naming it.
   */
  async resolveReferences(references: readonly SchemaReference[]): Promise<ResolvedReference[]> {
    if (references.length === 0) return [];
    const resolved: ResolvedReference[] = [];
    const named = new Set<string>();
    const visiting = new Set<string>();
    const visit = async (reference: SchemaReference, depth: number): Promise<void> => {
      const key = `${reference.subject}\u0000${reference.version}`;
      if (named.has(reference.name) || visiting.has(key)) return;
      if (depth > MAX_REFERENCE_DEPTH) {
        throw new RegistryError("invalid_schema", `references nest more than ${MAX_REFERENCE_DEPTH} deep`, {
          resource: "reference",
        });
      }
      const record = await this.storage.identity.bySubjectVersion(reference.subject, reference.version);
      if (record === null) {
        throw new RegistryError(
          "invalid_schema",
          `reference ${JSON.stringify(reference.name)}: subject ${reference.subject} has no version ${reference.version}`,
          { resource: "reference", reference },
        );
      }
      visiting.add(key);
      for (const inner of record.references) await visit(inner, depth + 1);
      visiting.delete(key);
      if (named.has(reference.name)) return;
      named.add(reference.name);
      resolved.push({
        name: reference.name,
        schemaType: record.schemaType,
        content: record.content ?? (await this.content.load(record)),
      });
    };
    for (const reference of references) await visit(reference, 0);
    return resolved;
  }

  /**
   * The verdict on a candidate against given versions at the subject's
   * level (Confluent's check against one version), or with `against` null
   * against what the level compares with.
   */
  async compatibilityAgainst(
    input: RegisterInput,
    against: SchemaRecord[] | null,
  ): Promise<{ compatible: boolean; messages: string[] }> {
    validateSubject(input.subject, this.limits);
    const references = validateReferences(input.references);
    const resolved = await this.resolveReferences(references);
    const prepared = await prepareContent(input.schemaType, input.content, this.limits, resolved);
    const candidate: Candidate = {
      subject: input.subject,
      schemaType: prepared.schemaType,
      content: prepared.value,
      contentHash: prepared.contentHash,
      references,
      resolved,
    };
    let verdict: CompatibilityVerdict;
    if (against === null) {
      verdict = (await this.evolution.decide(candidate)).verdict;
    } else {
      const settings = await this.subjectSettings(input.subject, { effective: true });
      const level = settings.compatibility ?? this.evolution.defaults.compatibility;
      const prior = await Promise.all(
        against.map(async (record) => ({
          version: record.version,
          cacheKey: `${record.contentHash}:${record.contentId}`,
          document: {
            content: record.content ?? (await this.content.load(record)),
            references: await this.resolveReferences(record.references),
          },
        })),
      );
      // A check against named versions is one comparison each, whatever the level's transitivity.
      await this.engine.ready();
      verdict = this.engine.check(
        prepared.schemaType,
        level,
        {
          document: { content: prepared.value, references: resolved },
          cacheKey: `${prepared.contentHash}:c`,
        },
        prior,
      );
    }
    return { compatible: verdict.compatible, messages: verdict.violations.map((v) => v.message) };
  }

  /** A record's content, loaded from the content store when the row does not hold it. */
  async contentOf(schema: SchemaRecord): Promise<unknown> {
    return schema.content ?? (await this.content.load(schema));
  }

  // ---- read path -------------------------------------------------------

  /**
   * One schema by UUID or global_id. A live row with its content inline that
   * the reader holds in process comes back as the view itself, not a promise,
   * so the HTTP fast path answers an L1 hit without awaiting; anything else
   * (I/O, content elsewhere) is a promise. Failures are always a rejected
   * promise, never a throw, so a caller handles them in one place.
   */
  getSchema(ref: SchemaRef, request: ReadRequest = {}): SchemaView | Promise<SchemaView> {
    try {
      const found = this.reader.getById(ref, { includeDeleted: request.includeDeleted ?? false });
      if (found !== null && "then" in found)
        return found.then((schema) => this.servedById(ref, schema, request));
      return this.servedById(ref, found, request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `getSchema`'s answer for the row the reader found: counted, then presented. */
  private servedById(
    ref: SchemaRef,
    schema: SchemaRecord | null,
    request: ReadRequest,
  ): SchemaView | Promise<SchemaView> {
    if (!schema) throw RegistryError.notFound(`schema ${describeRef(ref)} does not exist`, refDetails(ref));
    this.observer.fetched("id" in ref ? "id" : "global_id");
    if (schema.content !== null || schema.contentLocation === "inline") {
      // What `view` would present, without its promise.
      this.storage.reads.recordRead(schema.id);
      return { schema, link: null };
    }
    return this.view(schema, request);
  }

  async getVersion(subject: string, version: string, request: ReadRequest = {}): Promise<SchemaView> {
    if (!isSemVer(version)) throw invalidVersion(version);
    const schema = await this.reader.getBySubjectVersion(subject, version, {
      includeDeleted: request.includeDeleted ?? false,
    });
    if (!schema) {
      throw RegistryError.notFound(`subject ${subject} has no version ${version}`, { subject, version });
    }
    this.observer.fetched("subject_version");
    return this.view(schema, request);
  }

  async getLatest(subject: string, request: ReadRequest = {}): Promise<SchemaView> {
    const schema = await this.reader.getLatest(subject);
    if (!schema) {
      throw RegistryError.notFound(`subject ${subject} has no active or deprecated version`, { subject });
    }
    this.observer.fetched("latest");
    return this.view(schema, request);
  }

  /** The content alone: its value, a direct link, or a stream of its canonical bytes. */
  async getContent(ref: SchemaRef, options: { redirect: boolean }): Promise<ContentView> {
    const schema = await this.reader.getById(ref, { includeDeleted: false });
    if (!schema) throw RegistryError.notFound(`schema ${describeRef(ref)} does not exist`, refDetails(ref));
    this.storage.reads.recordRead(schema.id);
    this.observer.fetched("content");
    if (schema.contentLocation === "inline" && schema.content !== null) {
      return { kind: "value", schema, value: schema.content };
    }
    if (options.redirect) {
      const link = await this.content.link(schema);
      if (link) return { kind: "link", schema, link };
    }
    return { kind: "stream", schema, body: await this.content.open(schema) };
  }

  async listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>> {
    const page = await this.queries.cached("versions", { ...options, subject }, () =>
      this.searches.run(() => this.storage.schemas.listVersions(subject, options)),
    );
    if (!options.withContent) return page;
    return { ...page, items: await Promise.all(page.items.map((item) => this.withContent(item, true))) };
  }

  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>> {
    return this.queries.cached("subjects", page, () =>
      this.searches.run(() => this.storage.schemas.listSubjects(page)),
    );
  }

  async search(query: SearchQuery): Promise<Page<SearchHit>> {
    const page = await this.queries.cached("search", query, () =>
      this.searches.run(() => this.storage.search.search(query)),
    );
    if (!query.withContent) return page;
    const items = await Promise.all(
      page.items.map(async (hit) => ({ ...(await this.withContent(hit, true)), score: hit.score })),
    );
    return { ...page, items };
  }

  async stateHistory(ref: SchemaRef): Promise<StateTransition[]> {
    // The history outlives a soft delete: it is how one finds out what happened.
    const schema = await this.storage.schemas.getById(ref, { includeDeleted: true });
    if (!schema) throw RegistryError.notFound(`schema ${describeRef(ref)} does not exist`, refDetails(ref));
    return this.storage.schemas.stateHistory({ id: schema.id });
  }

  /** The audit log, newest first (who is allowed to read it is the HTTP layer's decision). */
  auditLog(query: AuditQuery): Promise<AuditPage> {
    return this.storage.audit.list(query);
  }

  async stats(): Promise<RegistryStats> {
    return { storage: await this.searches.run(() => this.storage.schemas.stats()), cache: this.cacheStats() };
  }

  // ---- helpers ---------------------------------------------------------

  /** A schema served to a reader: counted in the access log. */
  private view(schema: SchemaRecord, request: ReadRequest): Promise<SchemaView> {
    this.storage.reads.recordRead(schema.id);
    return this.present(schema, request);
  }

  private async present(schema: SchemaRecord, request: ReadRequest): Promise<SchemaView> {
    if (schema.content !== null || schema.contentLocation === "inline") return { schema, link: null };
    if (!request.includeContent) {
      const link = await this.content.link(schema);
      if (link) return { schema, link };
    }
    return { schema: { ...schema, content: await this.content.load(schema) }, link: null };
  }

  private async withContent(schema: SchemaRecord, load: boolean): Promise<SchemaRecord> {
    if (!load || schema.content !== null || schema.contentLocation === "inline") return schema;
    return { ...schema, content: await this.content.load(schema) };
  }

  /** A direct URL for a written row whose content is in the object store; a failure costs only the URL. */
  private async linkAfterWrite(schema: SchemaRecord): Promise<ContentLink | null> {
    if (schema.content !== null || schema.contentLocation !== "object_store") return null;
    try {
      return await this.content.link(schema);
    } catch (error) {
      // The row has committed: failing the request now would only invite a retry of a write that succeeded.
      this.logger.warn("could not presign the content URL of a written schema", {
        schema_id: schema.id,
        error,
      });
      return null;
    }
  }

  /** An upload's bytes as the text `prepareContent` takes in place of a request's `content`. */
  private async readUpload(uploadId: string): Promise<string> {
    const bytes = await this.content.readUpload(uploadId);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new RegistryError("invalid_schema", `upload ${uploadId} is not UTF-8 text`, {
        upload_id: uploadId,
      });
    }
  }

  private async discardUpload(uploadId: string): Promise<void> {
    try {
      await this.content.discardUpload(uploadId);
    } catch (error) {
      // Registered all the same: the staging object expires and the sweep removes it.
      this.logger.warn("could not remove a registered upload", { upload_id: uploadId, error });
    }
  }

  private async discard(placed: PlacedContent): Promise<void> {
    try {
      await this.content.discard(placed);
    } catch (error) {
      // The original failure is what the client must hear about; an object
      // left behind is found by the object store's orphan sweep.
      this.logger.warn("could not discard content of a failed register", { error });
    }
  }

  private async notify(change: SchemaChange): Promise<void> {
    try {
      await this.changes.schemaChanged(change);
    } catch (error) {
      // The write has committed: answering it with an error would invite a
      // retry of something that succeeded. Caches bound staleness by TTL.
      this.logger.error("schema change listener failed", {
        change: change.kind,
        schema_id: change.schema.id,
        error,
      });
    }
  }
}

function refDetails(ref: SchemaRef): Record<string, unknown> {
  return "id" in ref ? { id: ref.id } : { global_id: ref.globalId };
}

function isSubjectChanged(error: unknown): boolean {
  return (
    error instanceof RegistryError && error.code === "conflict" && error.details.reason === "subject_changed"
  );
}

/** 409 incompatible_schema, listing every violation with the version it conflicts with. */
function incompatible(subject: string, decision: EvolutionDecision): RegistryError {
  const { verdict } = decision;
  const versions = [...new Set(verdict.violations.map((violation) => violation.version))];
  const first = verdict.violations[0];
  const count = verdict.violations.length;
  return new RegistryError(
    "incompatible_schema",
    `the schema is not ${verdict.level} compatible with ${versions.map((v) => `version ${v}`).join(", ")} of subject ${subject}: ${count} violation${count === 1 ? "" : "s"}${first ? `, first: ${first.message}` : ""}`,
    {
      subject,
      level: verdict.level,
      checked_versions: verdict.checkedVersions,
      violations: answeredViolations(verdict.violations),
    },
  );
}

function noSubjectSettings(subject: string): RegistryError {
  return RegistryError.notFound(
    `subject ${subject} has no settings of its own; it follows the global ones (ask with effective=true to see them)`,
    { subject },
  );
}

/** Settings from a caller other than the HTTP layer (which validates them itself) checked all the same. */
function checkSettings(settings: EvolutionSettings): EvolutionSettings {
  if (settings.compatibility !== undefined && !COMPATIBILITY_LEVELS.includes(settings.compatibility)) {
    throw RegistryError.invalidRequest(
      `compatibility must be one of ${COMPATIBILITY_LEVELS.join(", ")} (got ${JSON.stringify(settings.compatibility)})`,
      { field: "compatibility" },
    );
  }
  if (settings.semverPolicy !== undefined && !["advise", "enforce"].includes(settings.semverPolicy)) {
    throw RegistryError.invalidRequest(
      `semver_policy must be advise or enforce (got ${JSON.stringify(settings.semverPolicy)})`,
      { field: "semver_policy" },
    );
  }
  return settings;
}

/** Only the fields that are set, so spreading them over defaults keeps the defaults of the rest. */
function defined(settings: EvolutionSettings): EvolutionSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** The mode in force from a subject's own mode and the global one (null: not set). */
function modeInForce(own: Mode | null, global: Mode | null): Mode {
  // READONLY_OVERRIDE set globally wins over the subjects' own modes (Confluent's rule).
  if (global === "READONLY_OVERRIDE") return global;
  return own ?? global ?? DEFAULT_MODE;
}
