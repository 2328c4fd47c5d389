/**
 * The registry's vocabulary: the schema resource as the storage layer and the
 * service see it (camelCase; the HTTP layer maps it to the API's snake_case).
 */

export const SCHEMA_TYPES = ["json", "avro", "protobuf"] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export const SCHEMA_STATES = ["draft", "active", "deprecated", "archived"] as const;
export type SchemaState = (typeof SCHEMA_STATES)[number];

export const CONTENT_LOCATIONS = ["inline", "object_store"] as const;
export type ContentLocation = (typeof CONTENT_LOCATIONS)[number];

/** User-supplied descriptive data. Limits live in `domain/limits.ts`. */
export interface SchemaMetadata {
  description?: string;
  tags?: string[];
  owner?: string;
  custom?: Record<string, unknown>;
}

/**
 * A reference from a schema to a version of another subject, under the name
 * the schema uses for it: Avro, a named type's full name; JSON Schema, the
 * `$ref` value; Protobuf, the import path.
 */
export interface SchemaReference {
  name: string;
  subject: string;
  /** The referenced subject's integer version. */
  version: number;
}

/** A referenced schema's content under the name the referencing schema uses for it. */
export interface ResolvedReference {
  name: string;
  schemaType: SchemaType;
  content: unknown;
}

/** One stored schema version, exactly as the registry keeps it. */
export interface SchemaRecord {
  id: string;
  globalId: number;
  subject: string;
  /** The version as registered, build metadata included (`1.0.0+build.5`). */
  version: string;
  /**
   * The id of the content (type, canonical content and references): one id
   * for the same schema under any subject, Confluent's schema id.
   */
  contentId: number;
  /** The subject's integer version (1, 2, 3 …), Confluent's version. */
  subjectVersion: number;
  /** Versions of other subjects this schema uses, in the order it gave them. */
  references: SchemaReference[];
  schemaType: SchemaType;
  state: SchemaState;
  /**
   * The schema itself: a JSON value for `json` and `avro`, the `.proto` source
   * string for `protobuf`. `null` when the content lives in the object store
   * and was not loaded.
   */
  content: unknown | null;
  contentHash: string;
  contentSize: number;
  contentLocation: ContentLocation;
  /** Object key in the object store, when `contentLocation` is `object_store`. */
  contentKey: string | null;
  metadata: SchemaMetadata;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** A recorded lifecycle transition. */
export interface StateTransition {
  schemaId: string;
  fromState: SchemaState | null;
  toState: SchemaState;
  reason: string | null;
  changedAt: Date;
}

export interface SubjectSummary {
  subject: string;
  latestVersion: string | null;
  versionCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  total: number;
  /**
   * False when `total` is a lower bound: the matches were counted up to it
   * and there are more. Absent when the count is exact.
   */
  totalExact?: boolean;
}

/** How a schema is addressed: by its UUID or by its registry-wide `global_id`. */
export type SchemaRef = { id: string } | { globalId: number };

export interface ReadOptions {
  /** Also find soft-deleted schemas. */
  includeDeleted?: boolean;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export interface ListVersionsOptions extends PageRequest {
  /** Only these states; all states when absent or empty. */
  states?: SchemaState[];
  includeDeleted?: boolean;
  /** Load `content` into the records (lists leave it out by default). */
  withContent?: boolean;
}

export type SearchSortField = "relevance" | "created_at" | "subject" | "version";

export interface SearchQuery extends PageRequest {
  /** Words of the subject, tags, description and owner (full text, typo-tolerant). */
  q?: string;
  /** Subject pattern; `*` matches any run of characters. */
  subject?: string;
  schemaType?: SchemaType;
  /** Every tag must be present. */
  tags?: string[];
  owner?: string;
  states?: SchemaState[];
  /** A JSON object the metadata must contain (`@>`). */
  metadata?: Record<string, unknown>;
  sort: { field: SearchSortField; descending: boolean };
  includeDeleted?: boolean;
  withContent?: boolean;
}

export interface SearchHit extends SchemaRecord {
  /** Relevance to `q` (0 to 1, 1 for the subject itself), when `q` was given. */
  score: number | null;
}

export interface StorageStats {
  totalSchemas: number;
  draftSchemas: number;
  activeSchemas: number;
  deprecatedSchemas: number;
  archivedSchemas: number;
  deletedSchemas: number;
  subjects: number;
  /** Bytes of content kept inline in the database and in the object store. */
  inlineBytes: number;
  objectStoreBytes: number;
}
