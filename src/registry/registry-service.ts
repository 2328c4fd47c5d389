/**
 * The registry service: the read and write paths between HTTP and storage.
 *
 * Write: validate (subject, state, version, metadata) → prepare content
 * (size limit, parse, validate, canonicalise, hash) → place content (row or
 * object store) → schemas.register in its transaction → tell the change
 * listener. A failed write discards placed content, so nothing is left behind.
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
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type CompatibilityViolation,
  createCompatibilityEngine,
  DEFAULT_COMPATIBILITY_LEVEL,
  DEFAULT_SEMVER_POLICY,
  type EffectiveSettings,
  type EvolutionSettings,
} from "../domain/compatibility/index.ts";
import { prepareContent } from "../domain/content.ts";
import {
  compileDataValidator,
  type DataValidator,
  type DataVerdict,
} from "../domain/data-validation/index.ts";
import { RegistryError } from "../domain/errors.ts";
import { INITIAL_STATES } from "../domain/lifecycle.ts";
import { type Limits, validateMetadata, validateSubject } from "../domain/limits.ts";
import { ignoreChanges, type SchemaChange, type SchemaChangeListener } from "../domain/schema-changes.ts";
import { invalidVersion, isSemVer } from "../domain/semver.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
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
import { type Logger, silentLogger } from "../observability/logger.ts";
import { ignoreRegistryEvents, type RegistryObserver } from "../observability/registry-observer.ts";
import type { NewSchema, RegisterOutcome, Storage } from "../storage/storage.ts";
import {
  type ContentLink,
  type ContentStore,
  type CreateUploadRequest,
  inlineContentStore,
  type PlacedContent,
  type UploadTicket,
} from "./content-store.ts";
import { type Candidate, type EvolutionDecision, preparedFormsCache, SchemaEvolution } from "./evolution.ts";
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
  storage: Pick<Storage, "schemas" | "search" | "reads" | "settings">;
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
  /** Pages of search and the lists, cached until the next schema change; defaults to none. */
  queries?: QueryResults;
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

/** How often a register checks again when other registers of its subject keep committing first. */
const MAX_REGISTER_ATTEMPTS = 5;

/** A register's outcome, with a direct URL when the content lives in the object store. */
export interface RegisterResult extends RegisterOutcome {
  link: ContentLink | null;
}

export class RegistryService {
  readonly limits: Limits;
  private readonly storage: Pick<Storage, "schemas" | "search" | "reads" | "settings">;
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
    this.evolution = new SchemaEvolution({
      engine: createCompatibilityEngine({ prepared: preparedFormsCache() }),
      repository: options.storage.schemas,
      defaults: options.evolutionDefaults ?? {
        compatibility: DEFAULT_COMPATIBILITY_LEVEL,
        semverPolicy: DEFAULT_SEMVER_POLICY,
      },
      loadContent: (record) => this.content.load(record),
    });
  }

  // ---- write path ------------------------------------------------------

  async register(input: RegisterInput): Promise<RegisterResult> {
    if (input.uploadId !== undefined && input.content !== undefined) {
      throw RegistryError.invalidRequest("give either content or upload_id, not both", {
        field: "upload_id",
      });
    }
    validateSubject(input.subject, this.limits);
    const state = input.state ?? "active";
    if (!INITIAL_STATES.includes(state)) {
      throw RegistryError.invalidRequest(
        `a schema is registered as ${INITIAL_STATES.join(" or ")}, not ${state}`,
        { field: "state" },
      );
    }
    if (input.version !== undefined && !isSemVer(input.version)) throw invalidVersion(input.version);
    const metadata = validateMetadata(input.metadata ?? {}, this.limits);
    const raw = input.uploadId !== undefined ? await this.readUpload(input.uploadId) : input.content;
    // Checks the size limit (413) before spending parser time on the content.
    const prepared = await prepareContent(input.schemaType, raw, this.limits);
    const candidate = {
      subject: input.subject,
      schemaType: prepared.schemaType,
      content: prepared.value,
      contentHash: prepared.contentHash,
    };

    let decision = await this.decide(candidate, input.version);
    if (decision.existing) return this.alreadyRegistered(decision.existing, input);

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
        };
        try {
          const head = decision.head;
          outcome = await this.content.commit(placed, (tx) =>
            (tx ?? this.storage.schemas).register(row, { expectedHead: head }),
          );
          break;
        } catch (error) {
          // Another register of the subject committed after this one was checked: check again against it.
          if (!isSubjectChanged(error) || attempt >= MAX_REGISTER_ATTEMPTS) throw error;
          decision = await this.decide(candidate, input.version);
          if (decision.existing) {
            await this.discard(placed);
            return this.alreadyRegistered(decision.existing, input);
          }
        }
      }
    } catch (error) {
      await this.discard(placed);
      throw error;
    }
    // Already registered with its content held elsewhere (inline, say): what was placed for it may go.
    if (!outcome.created && outcome.schema.contentKey !== placed.contentKey) await this.discard(placed);
    this.observer.registered(input.schemaType, outcome.created);
    if (outcome.created) await this.notify({ kind: "registered", schema: outcome.schema });
    if (input.uploadId !== undefined) await this.discardUpload(input.uploadId);
    return { ...outcome, link: await this.linkAfterWrite(outcome.schema) };
  }

  /**
   * A dry run of `register`: the verdict on the content as the subject's next
   * version, the versions it was checked against and the version it would
   * get; nothing is written.
   */
  async checkCompatibility(input: RegisterInput): Promise<CompatibilityReport> {
    validateSubject(input.subject, this.limits);
    if (input.version !== undefined && !isSemVer(input.version)) throw invalidVersion(input.version);
    const raw = input.uploadId !== undefined ? await this.readUpload(input.uploadId) : input.content;
    const prepared = await prepareContent(input.schemaType, raw, this.limits);
    const decision = await this.evolution.decide({
      subject: input.subject,
      schemaType: prepared.schemaType,
      content: prepared.value,
      contentHash: prepared.contentHash,
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

  /** The verdict on a candidate; refuses it (409) when the subject's rules or its semver policy do. */
  private async decide(candidate: Candidate, version: string | undefined): Promise<EvolutionDecision> {
    const decision = await this.evolution.decide(candidate);
    if (decision.existing) return decision;
    if (!decision.verdict.compatible) {
      this.observer.rejected(candidate.schemaType);
      throw incompatible(candidate.subject, decision);
    }
    if (version !== undefined) this.evolution.enforcePolicy(decision, version);
    return decision;
  }

  /** The content is already live under the subject: that schema, created nothing. */
  private async alreadyRegistered(schema: SchemaRecord, input: RegisterInput): Promise<RegisterResult> {
    this.observer.registered(input.schemaType, false);
    if (input.uploadId !== undefined) await this.discardUpload(input.uploadId);
    return { schema, created: false, link: await this.linkAfterWrite(schema) };
  }

  /** A presigned PUT for a direct upload; `not_found` when this instance has no object store. */
  async createUpload(request: CreateUploadRequest): Promise<UploadTicket> {
    return this.content.createUpload(request);
  }

  async updateState(ref: SchemaRef, to: SchemaState, reason: string | null): Promise<SchemaView> {
    const schema = await this.storage.schemas.updateState(ref, to, reason);
    await this.notify({ kind: "state_changed", schema });
    return this.present(schema, {});
  }

  /** Soft delete, or with `permanent` remove a soft-deleted schema for good. */
  async delete(ref: SchemaRef, options: { permanent: boolean }): Promise<void> {
    if (options.permanent) {
      const schema = await this.storage.schemas.permanentDelete(ref);
      this.observer.deleted("permanent");
      await this.notify({ kind: "deleted", schema });
      try {
        await this.content.release(schema);
      } catch (error) {
        // The row is gone; an object left behind is found by the orphan sweep.
        this.logger.warn("could not release content of a deleted schema", { schema_id: schema.id, error });
      }
      return;
    }
    const schema = await this.storage.schemas.softDelete(ref);
    this.observer.deleted("soft");
    await this.notify({ kind: "soft_deleted", schema });
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
    const key = `${schema.schemaType}:${schema.contentHash}:${options.messageName ?? ""}`;
    let validator = this.validators.get(key);
    if (validator === undefined) {
      validator = compileDataValidator(
        schema.schemaType,
        { content: schema.content },
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

  async putGlobalSettings(settings: EvolutionSettings): Promise<EffectiveSettings> {
    await this.storage.settings.putGlobal(checkSettings(settings));
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

  async putSubjectSettings(subject: string, settings: EvolutionSettings): Promise<EvolutionSettings> {
    validateSubject(subject, this.limits);
    return this.storage.settings.putSubject(subject, checkSettings(settings));
  }

  /** Removes the subject's own settings (it follows the global ones again); answers what they were. */
  async deleteSubjectSettings(subject: string): Promise<EvolutionSettings> {
    validateSubject(subject, this.limits);
    const removed = await this.storage.settings.deleteSubject(subject);
    if (removed === null) throw noSubjectSettings(subject);
    return removed;
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
      this.storage.schemas.listVersions(subject, options),
    );
    if (!options.withContent) return page;
    return { ...page, items: await Promise.all(page.items.map((item) => this.withContent(item, true))) };
  }

  listSubjects(page: PageRequest): Promise<Page<SubjectSummary>> {
    return this.queries.cached("subjects", page, () => this.storage.schemas.listSubjects(page));
  }

  async search(query: SearchQuery): Promise<Page<SearchHit>> {
    const page = await this.queries.cached("search", query, () => this.storage.search.search(query));
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

  async stats(): Promise<RegistryStats> {
    return { storage: await this.storage.schemas.stats(), cache: this.cacheStats() };
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
      violations: verdict.violations.map(({ path, rule, message, version }) => ({
        path,
        rule,
        message,
        version,
      })),
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
