/**
 * The registry as Confluent's Schema Registry API sees it: schema ids per
 * content, integer versions per subject, references between subjects,
 * compatibility settings and modes. The HTTP layer's Confluent routes
 * (src/http/confluent/) call this interface; `createConfluentRegistry` builds
 * it on the same storage, evolution rules and caches as the native API, so a
 * schema registered through either API is visible through both.
 *
 * Identity, as Confluent defines it:
 * - a schema id (`contentId`) names a content: the same schema type,
 *   canonical content and references registered under two subjects have one
 *   id, and registering it again answers that id;
 * - a subject's versions are integers 1, 2, 3 … that keep counting after soft
 *   deletes and restart only when every version was permanently deleted;
 * - every row also has its semantic version (derived from the compatibility
 *   verdict when the Confluent API registers it);
 * - `guid` is an MD5 of the canonical content, written as a UUID.
 *
 * Failures are RegistryErrors whose `details.resource` says what was missing
 * or wrong, so the Confluent layer can answer Confluent's own error codes
 * (see CONFLUENT_ERRORS in src/http/confluent/errors.ts).
 */
import type { WriteContext } from "../domain/audit.ts";
import type { CompatibilityLevel } from "../domain/compatibility/index.ts";
import type { SchemaType } from "../domain/types.ts";

/** A reference from a schema to a version of another subject, under the name the schema uses for it. */
export interface SchemaReference {
  /** Avro: the referenced named type's full name; JSON Schema: the `$ref` value; Protobuf: the import path. */
  name: string;
  subject: string;
  /** The referenced subject's integer version. */
  version: number;
}

export const CONFLUENT_MODES = ["READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"] as const;
export type ConfluentMode = (typeof CONFLUENT_MODES)[number];

/** A schema as the Confluent API shows it. */
export interface ConfluentSchema {
  id: number;
  guid: string;
  schemaType: SchemaType;
  /** The schema text as registered: JSON text for json and avro, the .proto source for protobuf. */
  schema: string;
  references: SchemaReference[];
  /** Set when the schema is seen as a subject's version. */
  subject?: string;
  version?: number;
  /** The semantic version of that subject's version. */
  semver?: string;
  /** Set when the version is soft-deleted (reads with `deleted=true`). */
  deleted?: boolean;
}

/** A schema sent to be registered, looked up or checked. */
export interface ConfluentCandidate {
  /** Schema text; for protobuf either .proto source or a base64 serialized FileDescriptorProto. */
  schema: string;
  /** Confluent's names: AVRO (the default when absent), JSON, PROTOBUF. */
  schemaType: SchemaType;
  references: SchemaReference[];
  /** IMPORT mode only: the id and version to keep. */
  id?: number;
  version?: number;
}

export interface ListOptions {
  includeDeleted?: boolean;
}

export interface ConfluentRegistry {
  /**
   * The schema of an id; with `subject`, as that subject's version when it
   * holds the id. 40403 when none. Without options it may answer at once
   * (an in-process cache hit) rather than with a promise, which the HTTP
   * layer's fast path uses; failures always come as a rejected promise.
   */
  schemaById(
    id: number,
    options?: { subject?: string; format?: string },
  ): ConfluentSchema | Promise<ConfluentSchema>;
  schemaByGuid(guid: string): Promise<ConfluentSchema>;
  /** Subjects holding the id. */
  subjectsOfSchema(id: number, options?: ListOptions): Promise<string[]>;
  /** Subject-version pairs holding the id. */
  versionsOfSchema(id: number, options?: ListOptions): Promise<{ subject: string; version: number }[]>;
  /** Every subject version's schema, or only each subject's latest; paged. */
  listSchemas(options: {
    subjectPrefix?: string;
    includeDeleted?: boolean;
    latestOnly?: boolean;
    offset?: number;
    limit?: number;
  }): Promise<ConfluentSchema[]>;

  listSubjects(options: {
    subjectPrefix?: string;
    includeDeleted?: boolean;
    deletedOnly?: boolean;
  }): Promise<string[]>;
  /** The version of `subject` holding this schema (after normalising, with `normalize`). 40401 / 40403. */
  lookup(
    subject: string,
    candidate: ConfluentCandidate,
    options?: { normalize?: boolean; includeDeleted?: boolean },
  ): Promise<ConfluentSchema>;
  /** Soft-deletes every version (or, with `permanent`, removes soft-deleted ones for good); answers the versions. */
  deleteSubject(subject: string, options: { permanent: boolean }, context?: WriteContext): Promise<number[]>;

  listVersions(
    subject: string,
    options?: { includeDeleted?: boolean; deletedOnly?: boolean },
  ): Promise<number[]>;
  /** Registers under the subject (compatibility-checked, semver derived); an existing identical schema answers its id. */
  register(
    subject: string,
    candidate: ConfluentCandidate,
    options?: { normalize?: boolean },
    context?: WriteContext,
  ): Promise<{ id: number; version: number; semver: string }>;
  /** `latest` (or -1): the highest live version. 40401 / 40402. */
  /** `format: "serialized"` answers a Protobuf schema as a base64 FileDescriptorProto, as schemaById does. */
  version(
    subject: string,
    version: number | "latest",
    options?: ListOptions & { format?: string },
  ): Promise<ConfluentSchema>;
  /** Ids of the schemas referencing this subject version. */
  referencedBy(subject: string, version: number | "latest"): Promise<number[]>;
  /** Soft delete (or permanent, after a soft one); refused while referenced. Answers the version. */
  deleteVersion(
    subject: string,
    version: number | "latest",
    options: { permanent: boolean },
    context?: WriteContext,
  ): Promise<number>;

  /**
   * The verdict on `candidate` against one version (`latest`, or a number)
   * or, with `all`, against what the subject's level compares with.
   */
  checkCompatibility(
    subject: string,
    against: number | "latest" | "all",
    candidate: ConfluentCandidate,
    options?: { normalize?: boolean },
  ): Promise<{ compatible: boolean; messages: string[] }>;

  /** Compatibility settings: the global level, and subjects' own (null when the subject has none). */
  /** The writes below take the WriteContext of who asks, for the audit log (default: `system`). */
  globalCompatibility(): Promise<CompatibilityLevel>;
  setGlobalCompatibility(level: CompatibilityLevel, context?: WriteContext): Promise<CompatibilityLevel>;
  /** Resets the global level to the server's configured default; answers the level it had. */
  resetGlobalCompatibility(context?: WriteContext): Promise<CompatibilityLevel>;
  subjectCompatibility(subject: string): Promise<CompatibilityLevel | null>;
  setSubjectCompatibility(
    subject: string,
    level: CompatibilityLevel,
    context?: WriteContext,
  ): Promise<CompatibilityLevel>;
  /** Answers the level the subject had; 40408 when it had none of its own. */
  deleteSubjectCompatibility(subject: string, context?: WriteContext): Promise<CompatibilityLevel>;

  globalMode(): Promise<ConfluentMode>;
  setGlobalMode(
    mode: ConfluentMode,
    options?: { force?: boolean },
    context?: WriteContext,
  ): Promise<ConfluentMode>;
  resetGlobalMode(context?: WriteContext): Promise<ConfluentMode>;
  subjectMode(subject: string): Promise<ConfluentMode | null>;
  setSubjectMode(
    subject: string,
    mode: ConfluentMode,
    options?: { force?: boolean },
    context?: WriteContext,
  ): Promise<ConfluentMode>;
  /** Answers the mode the subject had; 40409 when it had none of its own. */
  deleteSubjectMode(subject: string, context?: WriteContext): Promise<ConfluentMode>;
}
