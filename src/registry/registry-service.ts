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

import { passThroughQueries, type QueryResults } from "../cache/query-result-cache.ts";
import type { CacheReport } from "../cache/stats-report.ts";
import { prepareContent } from "../domain/content.ts";
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
import type { RegisterOutcome, Storage } from "../storage/storage.ts";
import {
  type ContentLink,
  type ContentStore,
  type CreateUploadRequest,
  inlineContentStore,
  type PlacedContent,
  type UploadTicket,
} from "./content-store.ts";
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
  storage: Pick<Storage, "schemas" | "search" | "reads">;
  limits: Limits;
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

/** A register's outcome, with a direct URL when the content lives in the object store. */
export interface RegisterResult extends RegisterOutcome {
  link: ContentLink | null;
}

export class RegistryService {
  readonly limits: Limits;
  private readonly storage: Pick<Storage, "schemas" | "search" | "reads">;
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

    const placed = await this.content.place({ ...prepared, schemaType: input.schemaType });
    const row = {
      subject: input.subject,
      ...(input.version !== undefined ? { version: input.version } : {}),
      schemaType: input.schemaType,
      state,
      content: placed.content,
      contentHash: prepared.contentHash,
      contentSize: prepared.contentSize,
      contentLocation: placed.contentLocation,
      contentKey: placed.contentKey,
      metadata,
    };
    let outcome: RegisterOutcome;
    try {
      outcome = await this.content.commit(placed, (tx) => (tx ?? this.storage.schemas).register(row));
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
