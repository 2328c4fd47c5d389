/**
 * The `schemas` table as postgres.js returns it, the explicit column lists the
 * repository and search select (never `*`: `search_text` stays in the
 * database), and the mapping to the domain's SchemaRecord.
 *
 * Content is served as registered: `content_text` (the JSON text the client
 * sent) when the row has it, the JSONB `content` only for rows without it
 * (written before migration 003). JSONB keeps neither key order nor
 * formatting, and clients see the order of `properties` (LLM structured
 * outputs generate fields in it).
 */
import type postgres from "postgres";
import { RegistryError } from "../../domain/errors.ts";
import type {
  ContentLocation,
  ReadOptions,
  SchemaMetadata,
  SchemaRecord,
  SchemaRef,
  SchemaReference,
  SchemaState,
  SchemaType,
  StateTransition,
} from "../../domain/types.ts";

const BEFORE_CONTENT = "id, global_id, subject, version, schema_type, state";
const AFTER_CONTENT =
  'content_hash, content_size, content_location, content_key, metadata, created_at, updated_at, deleted_at, content_id, subject_version, "references"';

/**
 * The content as one copy on the wire: the JSONB column is read (and
 * detoasted) only for a row that has no text.
 */
export const CONTENT_COLUMNS = "CASE WHEN content_text IS NULL THEN content END AS content, content_text";

/** Every column a SchemaRecord needs. */
export const RECORD_COLUMNS = `${BEFORE_CONTENT}, ${CONTENT_COLUMNS}, ${AFTER_CONTENT}`;
/** The same shape without loading the content (lists): neither content column is read. */
export const LISTING_COLUMNS = `${BEFORE_CONTENT}, NULL::jsonb AS content, NULL::text AS content_text, ${AFTER_CONTENT}`;

/** The column lists as fragments, made once: a fragment is inlined as text into any pool's statement. */
export interface Columns {
  record: postgres.PendingQuery<postgres.Row[]>;
  listing: postgres.PendingQuery<postgres.Row[]>;
}

export function columnsOf(sql: postgres.Sql): Columns {
  return { record: sql.unsafe(RECORD_COLUMNS), listing: sql.unsafe(LISTING_COLUMNS) };
}

export interface SchemaRow {
  id: string;
  /** int8 arrives as a string. */
  global_id: string;
  subject: string;
  version: string;
  schema_type: SchemaType;
  state: SchemaState;
  /** The JSONB content, parsed by the driver; null when `content_text` is there (or none is stored). */
  content: unknown;
  /** The content as registered, as JSON text. */
  content_text: string | null;
  content_hash: string;
  content_size: number;
  content_location: ContentLocation;
  content_key: string | null;
  metadata: SchemaMetadata;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  /** int8 arrives as a string. */
  content_id: string;
  subject_version: number;
  references: SchemaReference[];
}

/** A row as a read shows it: a soft-deleted one only when asked for. */
export function visible(row: SchemaRow | undefined, options: ReadOptions | undefined): SchemaRecord | null {
  if (!row) return null;
  if (row.deleted_at !== null && options?.includeDeleted !== true) return null;
  return toSchemaRecord(row);
}

export function toSchemaRecord(row: SchemaRow): SchemaRecord {
  return {
    id: row.id,
    globalId: Number(row.global_id),
    subject: row.subject,
    version: row.version,
    contentId: Number(row.content_id),
    subjectVersion: row.subject_version,
    references: row.references ?? [],
    schemaType: row.schema_type,
    state: row.state,
    content: typeof row.content_text === "string" ? JSON.parse(row.content_text) : (row.content ?? null),
    contentHash: row.content_hash,
    contentSize: row.content_size,
    contentLocation: row.content_location,
    contentKey: row.content_key,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export interface HistoryRow {
  schema_id: string;
  from_state: SchemaState | null;
  to_state: SchemaState;
  reason: string | null;
  changed_at: Date;
}

export function toStateTransition(row: HistoryRow): StateTransition {
  return {
    schemaId: row.schema_id,
    fromState: row.from_state,
    toState: row.to_state,
    reason: row.reason,
    changedAt: row.changed_at,
  };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** A reference no row can have (not a UUID, not a positive safe integer) needs no query to be missing. */
export function isValidRef(ref: SchemaRef): boolean {
  return "id" in ref ? isUuid(ref.id) : Number.isSafeInteger(ref.globalId) && ref.globalId > 0;
}

export function refNotFound(ref: SchemaRef): RegistryError {
  const id = "id" in ref ? ref.id : String(ref.globalId);
  return RegistryError.notFound(`schema ${id} does not exist`, { id });
}
