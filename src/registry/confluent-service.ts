/**
 * createConfluentRegistry: the ConfluentRegistry port on the registry's own
 * storage and service. Reads go to the identity store (content ids, integer
 * versions); every write goes through the RegistryService, so a register
 * through this API is checked at the subject's compatibility level, gets its
 * semantic version from the verdict, commits under the subject's head guard,
 * honours the mode, and invalidates the caches through the same change
 * listener as a native one.
 *
 * Confluent's compatibility config is the registry's `compatibility` setting;
 * its `normalize` is what the registry always does (content ids are per
 * canonical content), so the flag changes nothing.
 *
 * Failures carry `details.resource` for the Confluent error codes:
 *   not_found: subject (40401), version (40402), schema (40403),
 *   compatibility (40408, none of its own), mode (40409, none of its own);
 *   conflict with `deleted: true`: the subject or version is soft-deleted
 *   already (40404, 40406); with `deleted: false`: it was not soft-deleted
 *   before a permanent delete (40405, 40407); conflict/reference: it is
 *   referenced (42206); invalid_request/version: not a version (42202);
 *   read_only with resource "mode": the mode refuses (42205).
 */
import * as v from "valibot";
import { cacheKeys } from "../cache/keys.ts";
import { SYSTEM_WRITE, type WriteContext } from "../domain/audit.ts";
import type { CompatibilityLevel } from "../domain/compatibility/index.ts";
import { prepareContent } from "../domain/content.ts";
import { RegistryError } from "../domain/errors.ts";
import { validateSubject } from "../domain/limits.ts";
import { isMode, type Mode } from "../domain/modes.ts";
import { validateReferences } from "../domain/references.ts";
import { SCHEMA_TYPES, type SchemaType } from "../domain/types.ts";
import type { IdentifiedRecord, Storage } from "../storage/storage.ts";
import type {
  ConfluentCandidate,
  ConfluentMode,
  ConfluentRegistry,
  ConfluentSchema,
  ListOptions,
} from "./confluent-registry.ts";
import type { RegistryService } from "./registry-service.ts";

/** Turns a protobuf candidate's text into `.proto` source (a base64 FileDescriptorProto is converted). */
export type ProtobufSourceOf = (text: string) => string | Promise<string>;

/** Compiles `.proto` source, with the files it imports, into a base64 FileDescriptorProto. */
export type ProtobufDescriptorOf = (
  source: string,
  imports: ReadonlyArray<{ name: string; content: string }>,
) => string | Promise<string>;

export interface ConfluentRegistryOptions {
  service: RegistryService;
  storage: Pick<Storage, "identity" | "settings">;
  /**
   * The hook for base64 FileDescriptorProto schemas (src/domain/protobuf-descriptor.ts);
   * without it protobuf text is taken as `.proto` source.
   */
  protobufSource?: ProtobufSourceOf;
  /** For reads with `format: "serialized"`; without it Protobuf schemas are answered as source whatever the format. */
  protobufDescriptor?: ProtobufDescriptorOf;
  /**
   * The tiered cache, for `GET /schemas/ids/{id}`: what every deserializer
   * asks, for each schema id it meets. Without it every read goes to the
   * database.
   */
  cache?: SchemaByIdCache;
}

/** The part of the tiered cache the by-id read uses; an L1 hit is answered without an await. */
export interface SchemaByIdCache {
  get<T>(
    key: string,
    loader: () => Promise<T | null | undefined>,
    options?: { schema?: v.GenericSchema<unknown, T> },
  ): Promise<T | null>;
  peek<T>(key: string): { value: T | null } | undefined;
}

/** A schema by id as it comes back from L2: checked field by field, or a miss. */
const cachedConfluentSchema = v.object({
  id: v.number(),
  guid: v.string(),
  schemaType: v.picklist(SCHEMA_TYPES),
  schema: v.string(),
  references: v.array(v.object({ name: v.string(), subject: v.string(), version: v.number() })),
}) as v.GenericSchema<unknown, ConfluentSchema>;

/** Rows a list answers at most when the caller sets no limit. */
const UNLIMITED = 1_000_000;

export function createConfluentRegistry(options: ConfluentRegistryOptions): ConfluentRegistry {
  return new ConfluentService(options);
}

class ConfluentService implements ConfluentRegistry {
  private readonly service: RegistryService;
  private readonly storage: Pick<Storage, "identity" | "settings">;
  private readonly protobufSource: ProtobufSourceOf;
  private readonly protobufDescriptor: ProtobufDescriptorOf | null;
  private readonly cache: SchemaByIdCache | null;

  constructor(options: ConfluentRegistryOptions) {
    this.service = options.service;
    this.storage = options.storage;
    this.protobufSource = options.protobufSource ?? ((text) => text);
    this.protobufDescriptor = options.protobufDescriptor ?? null;
    this.cache = options.cache ?? null;
  }

  // ---- schemas by id ---------------------------------------------------

  schemaById(
    id: number,
    options: { subject?: string; format?: string } = {},
  ): ConfluentSchema | Promise<ConfluentSchema> {
    if (this.cache === null || options.subject !== undefined || options.format !== undefined) {
      return this.readSchemaById(id, options);
    }
    // The content under an id never changes; an entry goes only when a row with the id changes
    // (the cache's keys of a schema include its content id), here and through the bus elsewhere.
    const key = cacheKeys.schemaByContentId(id);
    const hit = this.cache.peek<ConfluentSchema>(key);
    if (hit !== undefined) return hit.value === null ? Promise.reject(schemaNotFound(id)) : hit.value;
    return this.cache
      .get<ConfluentSchema>(
        key,
        () =>
          this.readSchemaById(id).catch((error) => (isSchemaNotFound(error) ? null : Promise.reject(error))),
        { schema: cachedConfluentSchema },
      )
      .then((schema) => (schema === null ? Promise.reject(schemaNotFound(id)) : schema));
  }

  private async readSchemaById(
    id: number,
    options: { subject?: string; format?: string } = {},
  ): Promise<ConfluentSchema> {
    const inSubject =
      options.subject === undefined
        ? null
        : await this.storage.identity.byContentId(id, { subject: options.subject });
    const record = inSubject ?? (await this.storage.identity.byContentId(id));
    if (record === null) throw schemaNotFound(id);
    return this.present(record, inSubject !== null, options.format);
  }

  async schemaByGuid(guid: string): Promise<ConfluentSchema> {
    const record = await this.storage.identity.byGuid(guid);
    if (record === null) {
      throw RegistryError.notFound(`schema ${guid} does not exist`, { resource: "schema", guid });
    }
    return this.present(record, false);
  }

  async subjectsOfSchema(id: number, options: ListOptions = {}): Promise<string[]> {
    const usages = await this.usages(id, options);
    return [...new Set(usages.map((usage) => usage.subject))];
  }

  async versionsOfSchema(
    id: number,
    options: ListOptions = {},
  ): Promise<{ subject: string; version: number }[]> {
    const usages = await this.usages(id, options);
    return usages.map(({ subject, version }) => ({ subject, version }));
  }

  async listSchemas(options: {
    subjectPrefix?: string;
    includeDeleted?: boolean;
    latestOnly?: boolean;
    offset?: number;
    limit?: number;
  }): Promise<ConfluentSchema[]> {
    const limit = options.limit === undefined || options.limit < 0 ? UNLIMITED : options.limit;
    const records = await this.storage.identity.listSchemas({
      ...(options.subjectPrefix ? { prefix: options.subjectPrefix } : {}),
      includeDeleted: options.includeDeleted === true,
      latestOnly: options.latestOnly === true,
      offset: Math.max(0, options.offset ?? 0),
      limit,
    });
    return Promise.all(records.map((record) => this.present(record, true)));
  }

  // ---- subjects --------------------------------------------------------

  async listSubjects(options: {
    subjectPrefix?: string;
    includeDeleted?: boolean;
    deletedOnly?: boolean;
  }): Promise<string[]> {
    return this.storage.identity.subjectNames({
      ...(options.subjectPrefix ? { prefix: options.subjectPrefix } : {}),
      includeDeleted: options.includeDeleted === true,
      deletedOnly: options.deletedOnly === true,
    });
  }

  async lookup(
    subject: string,
    candidate: ConfluentCandidate,
    options: { normalize?: boolean; includeDeleted?: boolean } = {},
  ): Promise<ConfluentSchema> {
    validateSubject(subject, this.service.limits);
    const versions = await this.storage.identity.subjectVersions(subject);
    const visible = options.includeDeleted ? versions : versions.filter((v) => !v.deleted);
    if (visible.length === 0) throw subjectNotFound(subject);
    const { prepared, references } = await this.prepare(candidate);
    const record = await this.storage.identity.findInSubject(
      subject,
      prepared.schemaType,
      prepared.contentHash,
      references,
      { includeDeleted: options.includeDeleted === true },
    );
    if (record === null) {
      throw RegistryError.notFound(`subject ${subject} holds no such schema`, {
        resource: "schema",
        subject,
      });
    }
    return this.present(record, true);
  }

  async deleteSubject(
    subject: string,
    options: { permanent: boolean },
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<number[]> {
    validateSubject(subject, this.service.limits);
    const versions = await this.storage.identity.subjectVersions(subject);
    if (versions.length === 0) throw subjectNotFound(subject);
    const live = versions.some((v) => !v.deleted);
    if (options.permanent && live) {
      throw new RegistryError(
        "conflict",
        `subject ${subject} was not soft-deleted first; delete it, then delete it permanently`,
        { resource: "subject", subject, deleted: false },
      );
    }
    if (!options.permanent && !live) {
      throw new RegistryError("conflict", `subject ${subject} was soft-deleted`, {
        resource: "subject",
        subject,
        deleted: true,
      });
    }
    const rows = await this.service.deleteSubject(subject, options, context);
    return rows.map((row) => row.subjectVersion);
  }

  async listVersions(
    subject: string,
    options: { includeDeleted?: boolean; deletedOnly?: boolean } = {},
  ): Promise<number[]> {
    const versions = await this.storage.identity.subjectVersions(subject);
    const chosen = options.deletedOnly
      ? versions.filter((v) => v.deleted)
      : options.includeDeleted
        ? versions
        : versions.filter((v) => !v.deleted);
    if (chosen.length === 0 && (options.deletedOnly ? versions.length === 0 : true)) {
      throw subjectNotFound(subject);
    }
    return chosen.map((v) => v.version);
  }

  async register(
    subject: string,
    candidate: ConfluentCandidate,
    _options: { normalize?: boolean } = {},
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<{ id: number; version: number; semver: string }> {
    const { schema } = await this.service.register(
      {
        subject,
        schemaType: candidate.schemaType,
        content: await this.sourceOf(candidate),
        references: candidate.references,
        contentId: candidate.id,
        subjectVersion: candidate.version,
      },
      context,
    );
    return { id: schema.contentId, version: schema.subjectVersion, semver: schema.version };
  }

  async version(
    subject: string,
    version: number | "latest",
    options: ListOptions & { format?: string } = {},
  ): Promise<ConfluentSchema> {
    const record = await this.find(subject, version, options.includeDeleted === true);
    return this.present(record, true, options.format);
  }

  async referencedBy(subject: string, version: number | "latest"): Promise<number[]> {
    const record = await this.find(subject, version, false);
    return this.storage.identity.referencedBy(subject, record.subjectVersion);
  }

  async deleteVersion(
    subject: string,
    version: number | "latest",
    options: { permanent: boolean },
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<number> {
    // A version by number is found soft-deleted or not (to say which); `latest` is the highest live one
    // for a soft delete, the highest of all for a permanent one.
    const latest = version === "latest" || version === -1;
    const record = await this.find(subject, version, latest ? options.permanent : true);
    if (options.permanent && record.deletedAt === null) {
      throw new RegistryError(
        "conflict",
        `version ${record.subjectVersion} of subject ${subject} was not soft-deleted first; delete it, then delete it permanently`,
        { resource: "version", subject, version: record.subjectVersion, deleted: false },
      );
    }
    if (!options.permanent && record.deletedAt !== null) {
      throw new RegistryError(
        "conflict",
        `version ${record.subjectVersion} of subject ${subject} was soft-deleted`,
        {
          resource: "version",
          subject,
          version: record.subjectVersion,
          deleted: true,
        },
      );
    }
    await this.service.delete({ id: record.id }, options, context);
    return record.subjectVersion;
  }

  async checkCompatibility(
    subject: string,
    against: number | "latest" | "all",
    candidate: ConfluentCandidate,
    _options: { normalize?: boolean } = {},
  ): Promise<{ compatible: boolean; messages: string[] }> {
    validateSubject(subject, this.service.limits);
    const input = {
      subject,
      schemaType: candidate.schemaType,
      content: await this.sourceOf(candidate),
      references: candidate.references,
    };
    if (against === "all") return this.service.compatibilityAgainst(input, null);
    const record = await this.find(subject, against, false);
    return this.service.compatibilityAgainst(input, [record]);
  }

  // ---- compatibility settings -----------------------------------------

  async globalCompatibility(): Promise<CompatibilityLevel> {
    return (await this.service.globalSettings()).compatibility;
  }

  async setGlobalCompatibility(
    level: CompatibilityLevel,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<CompatibilityLevel> {
    return (await this.service.putGlobalSettings({ compatibility: level }, context)).compatibility;
  }

  async resetGlobalCompatibility(context: WriteContext = SYSTEM_WRITE): Promise<CompatibilityLevel> {
    return this.service.resetGlobalCompatibility(context);
  }

  async subjectCompatibility(subject: string): Promise<CompatibilityLevel | null> {
    validateSubject(subject, this.service.limits);
    return (await this.storage.settings.getSubject(subject))?.compatibility ?? null;
  }

  async setSubjectCompatibility(
    subject: string,
    level: CompatibilityLevel,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<CompatibilityLevel> {
    const stored = await this.service.putSubjectSettings(subject, { compatibility: level }, context);
    return stored.compatibility ?? level;
  }

  async deleteSubjectCompatibility(
    subject: string,
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<CompatibilityLevel> {
    return this.service.clearSubjectCompatibility(subject, context);
  }

  // ---- modes -----------------------------------------------------------

  async globalMode(): Promise<ConfluentMode> {
    return this.service.effectiveMode(null);
  }

  async setGlobalMode(
    mode: ConfluentMode,
    options: { force?: boolean } = {},
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<ConfluentMode> {
    checkMode(mode);
    if (mode === "IMPORT" && options.force !== true) {
      const subjects = await this.storage.identity.subjectNames({ includeDeleted: true });
      if (subjects.length > 0) {
        throw new RegistryError(
          "read_only",
          `the registry holds ${subjects.length} subject${subjects.length === 1 ? "" : "s"}: IMPORT mode needs an empty registry (or force)`,
          { resource: "mode", mode, reason: "not_empty" },
        );
      }
    }
    await this.storage.settings.putGlobalMode(mode, context);
    return mode;
  }

  async resetGlobalMode(context: WriteContext = SYSTEM_WRITE): Promise<ConfluentMode> {
    const old = await this.storage.settings.putGlobalMode(null, context);
    return old ?? "READWRITE";
  }

  async subjectMode(subject: string): Promise<ConfluentMode | null> {
    validateSubject(subject, this.service.limits);
    return this.storage.settings.getSubjectMode(subject);
  }

  async setSubjectMode(
    subject: string,
    mode: ConfluentMode,
    options: { force?: boolean } = {},
    context: WriteContext = SYSTEM_WRITE,
  ): Promise<ConfluentMode> {
    validateSubject(subject, this.service.limits);
    checkMode(mode);
    if (mode === "IMPORT" && options.force !== true) {
      const versions = await this.storage.identity.subjectVersions(subject);
      if (versions.length > 0) {
        throw new RegistryError(
          "read_only",
          `subject ${subject} holds versions: IMPORT mode needs an empty subject (or force)`,
          { resource: "mode", mode, subject, reason: "not_empty" },
        );
      }
    }
    await this.storage.settings.putSubjectMode(subject, mode, context);
    return mode;
  }

  async deleteSubjectMode(subject: string, context: WriteContext = SYSTEM_WRITE): Promise<ConfluentMode> {
    validateSubject(subject, this.service.limits);
    const old = await this.storage.settings.putSubjectMode(subject, null, context);
    if (old === null) {
      throw RegistryError.notFound(`subject ${subject} has no mode of its own`, {
        resource: "mode",
        subject,
      });
    }
    return old;
  }

  // ---- helpers ---------------------------------------------------------

  /** A subject's version by number or `latest` (-1): 40401 without the subject, 40402 without the version, 42202 for a bad number. */
  private async find(
    subject: string,
    version: number | "latest",
    includeDeleted: boolean,
  ): Promise<IdentifiedRecord> {
    const latest = version === "latest" || version === -1;
    if (
      !latest &&
      (!Number.isSafeInteger(version) || (version as number) < 1 || (version as number) > 2_147_483_647)
    ) {
      throw RegistryError.invalidRequest(
        `version must be a positive integer or latest (got ${String(version)})`,
        { resource: "version", field: "version", version },
      );
    }
    const record = latest
      ? await this.storage.identity.latestOfSubject(subject, { includeDeleted })
      : await this.storage.identity.bySubjectVersion(subject, version as number, { includeDeleted });
    if (record !== null) return record;
    const versions = await this.storage.identity.subjectVersions(subject);
    const visible = includeDeleted ? versions : versions.filter((v) => !v.deleted);
    if (visible.length === 0) throw subjectNotFound(subject);
    throw RegistryError.notFound(`subject ${subject} has no version ${String(version)}`, {
      resource: "version",
      subject,
      version,
    });
  }

  private async usages(id: number, options: ListOptions) {
    const usages = await this.storage.identity.usagesOfContent(id, {
      includeDeleted: options.includeDeleted === true,
    });
    if (usages.length === 0 && (await this.storage.identity.byContentId(id)) === null)
      throw schemaNotFound(id);
    return usages;
  }

  private async prepare(candidate: ConfluentCandidate) {
    const references = validateReferences(candidate.references);
    const resolved = await this.service.resolveReferences(references);
    const prepared = await prepareContent(
      candidate.schemaType,
      await this.sourceOf(candidate),
      this.service.limits,
      resolved,
    );
    return { prepared, references };
  }

  /** The candidate's text as the registry takes it: JSON text, or `.proto` source. */
  private async sourceOf(candidate: ConfluentCandidate): Promise<string> {
    if (typeof candidate.schema !== "string") {
      throw RegistryError.invalidRequest("schema must be a string", { field: "schema" });
    }
    return candidate.schemaType === "protobuf" ? this.protobufSource(candidate.schema) : candidate.schema;
  }

  /** `format: "serialized"`: a Protobuf schema as a base64 FileDescriptorProto, compiled with its imports. */
  private async present(
    record: IdentifiedRecord,
    asVersion: boolean,
    format?: string,
  ): Promise<ConfluentSchema> {
    const content = await this.service.contentOf(record);
    let schema = schemaText(record.schemaType, content);
    if (format === "serialized" && record.schemaType === "protobuf" && this.protobufDescriptor !== null) {
      const imports = await this.service.resolveReferences(record.references);
      schema = await this.protobufDescriptor(
        schema,
        imports.map((i) => ({ name: i.name, content: String(i.content) })),
      );
    }
    return {
      id: record.contentId,
      guid: record.guid,
      schemaType: record.schemaType,
      schema,
      references: record.references,
      ...(asVersion
        ? {
            subject: record.subject,
            version: record.subjectVersion,
            semver: record.version,
            ...(record.deletedAt === null ? {} : { deleted: true }),
          }
        : {}),
    };
  }
}

/** The schema text: the .proto source, or the JSON text of the content (key order as registered). */
function schemaText(schemaType: SchemaType, content: unknown): string {
  return schemaType === "protobuf" && typeof content === "string" ? content : JSON.stringify(content);
}

function checkMode(mode: unknown): asserts mode is Mode {
  if (!isMode(mode)) {
    throw RegistryError.invalidRequest(
      `mode must be one of READWRITE, READONLY, READONLY_OVERRIDE, IMPORT (got ${JSON.stringify(mode)})`,
      { resource: "mode", field: "mode" },
    );
  }
}

function subjectNotFound(subject: string): RegistryError {
  return RegistryError.notFound(`subject ${subject} does not exist`, { resource: "subject", subject });
}

function schemaNotFound(id: number): RegistryError {
  return RegistryError.notFound(`schema ${id} does not exist`, { resource: "schema", id });
}

function isSchemaNotFound(error: unknown): boolean {
  return error instanceof RegistryError && error.code === "not_found" && error.details.resource === "schema";
}
