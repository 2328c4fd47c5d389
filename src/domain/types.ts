/**
 * The registry's vocabulary: the schema resource as the storage layer and the
 * service see it (camelCase; the HTTP layer maps it to API.md's snake_case).
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

/** One stored schema version, exactly as the registry keeps it. */
export interface SchemaRecord {
  id: string;
  globalId: number;
  subject: string;
  /** The version as registered, build metadata included (`1.0.0+build.5`). */
  version: string;
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
}
