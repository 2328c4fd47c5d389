/**
 * IdentityStore on PostgreSQL: content ids, integer versions and references
 * over `schemas` and `schema_contents` (migration 004). Reads go through the
 * reader (a replica that misses is asked again on the primary); a subject's
 * delete takes the subject's register lock, so no register slips in between
 * the reference check and the update.
 */
import type { WriteContext } from "../../domain/audit.ts";
import { RegistryError } from "../../domain/errors.ts";
import { referencesKey } from "../../domain/references.ts";
import type { SchemaRecord, SchemaReference, SchemaType } from "../../domain/types.ts";
import type {
  ContentUsage,
  IdentifiedRecord,
  IdentityStore,
  SchemaListing,
  SubjectListing,
  SubjectVersionEntry,
} from "../identity-store.ts";
import { insertAudit, schemaEntry } from "./audit-store.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import { atomic, type Db } from "./pool.ts";
import { type Columns, type SchemaRow, toSchemaRecord } from "./schema-rows.ts";

interface IdentifiedRow extends SchemaRow {
  guid: string;
}

export interface IdentityShared {
  columns: Columns;
  /** Told after every change to the table. */
  changed(): void;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The content's guid beside a row's columns (a subquery: the row's columns are written unqualified). */
const GUID_COLUMN = "(SELECT c.guid FROM schema_contents AS c WHERE c.id = s.content_id) AS guid";

/** int4's ceiling: a larger version can name no row. */
const MAX_VERSION = 2_147_483_647;

export class PostgresIdentityStore implements IdentityStore {
  private readonly guid;

  constructor(
    private readonly db: DbHandles,
    private readonly shared: IdentityShared,
  ) {
    this.guid = db.primary.unsafe(GUID_COLUMN);
  }

  async byContentId(id: number, options: { subject?: string } = {}): Promise<IdentifiedRecord | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null;
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const inSubject = options.subject === undefined ? db`` : db`AND s.subject = ${options.subject}`;
      const rows = await db<IdentifiedRow[]>`
        SELECT ${cols}, ${GUID} FROM schemas AS s
        WHERE s.content_id = ${id} ${inSubject}
        ORDER BY s.deleted_at IS NOT NULL, s.global_id
        LIMIT 1`;
      return identified(rows[0]);
    }, isNull);
  }

  async byGuid(guid: string): Promise<IdentifiedRecord | null> {
    if (!UUID_PATTERN.test(guid)) return null;
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const rows = await db<IdentifiedRow[]>`
        SELECT ${cols}, ${GUID} FROM schemas AS s
        WHERE s.content_id = (SELECT c.id FROM schema_contents AS c WHERE c.guid = ${guid})
        ORDER BY s.deleted_at IS NOT NULL, s.global_id
        LIMIT 1`;
      return identified(rows[0]);
    }, isNull);
  }

  async usagesOfContent(id: number, options: { includeDeleted?: boolean } = {}): Promise<ContentUsage[]> {
    if (!Number.isSafeInteger(id) || id < 1) return [];
    return this.read(async (db) => {
      const live = options.includeDeleted ? db`` : db`AND deleted_at IS NULL`;
      const rows = await db<{ subject: string; subject_version: number; deleted: boolean }[]>`
        SELECT subject, subject_version, deleted_at IS NOT NULL AS deleted FROM schemas
        WHERE content_id = ${id} ${live}
        ORDER BY subject, subject_version`;
      return rows.map((r) => ({ subject: r.subject, version: r.subject_version, deleted: r.deleted }));
    });
  }

  async subjectVersions(subject: string): Promise<SubjectVersionEntry[]> {
    return this.read(async (db) => {
      const rows = await db<{ subject_version: number; deleted: boolean }[]>`
        SELECT subject_version, deleted_at IS NOT NULL AS deleted FROM schemas
        WHERE subject = ${subject}
        ORDER BY subject_version`;
      return rows.map((r) => ({ version: r.subject_version, deleted: r.deleted }));
    });
  }

  async bySubjectVersion(
    subject: string,
    version: number,
    options: { includeDeleted?: boolean } = {},
  ): Promise<IdentifiedRecord | null> {
    if (!Number.isSafeInteger(version) || version < 1 || version > MAX_VERSION) return null;
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const rows = await db<IdentifiedRow[]>`
        SELECT ${cols}, ${GUID} FROM schemas AS s
        WHERE s.subject = ${subject} AND s.subject_version = ${version}`;
      const row = rows[0];
      if (row && row.deleted_at !== null && options.includeDeleted !== true) return null;
      return identified(row);
    }, isNull);
  }

  async latestOfSubject(
    subject: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<IdentifiedRecord | null> {
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const live = options.includeDeleted ? db`` : db`AND s.deleted_at IS NULL`;
      const rows = await db<IdentifiedRow[]>`
        SELECT ${cols}, ${GUID} FROM schemas AS s
        WHERE s.subject = ${subject} ${live}
        ORDER BY s.subject_version DESC
        LIMIT 1`;
      return identified(rows[0]);
    }, isNull);
  }

  async subjectNames(listing: SubjectListing): Promise<string[]> {
    return this.read(async (db) => {
      const prefix = listing.prefix ? db`AND starts_with(subject, ${listing.prefix})` : db``;
      // bool_or(live): the subject has a version that is not soft-deleted.
      const having = listing.deletedOnly
        ? db`HAVING NOT bool_or(deleted_at IS NULL)`
        : listing.includeDeleted
          ? db``
          : db`HAVING bool_or(deleted_at IS NULL)`;
      const rows = await db<{ subject: string }[]>`
        SELECT subject FROM schemas WHERE TRUE ${prefix}
        GROUP BY subject ${having}
        ORDER BY subject`;
      return rows.map((r) => r.subject);
    });
  }

  async listSchemas(listing: SchemaListing): Promise<IdentifiedRecord[]> {
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const prefix = listing.prefix ? db`AND starts_with(s.subject, ${listing.prefix})` : db``;
      const live = listing.includeDeleted ? db`` : db`AND s.deleted_at IS NULL`;
      const rows = listing.latestOnly
        ? await db<IdentifiedRow[]>`
            SELECT * FROM (
              SELECT DISTINCT ON (s.subject) ${cols}, ${GUID}
              FROM schemas AS s
              WHERE TRUE ${prefix} ${live}
              ORDER BY s.subject, s.subject_version DESC
            ) AS latest
            ORDER BY subject
            LIMIT ${listing.limit} OFFSET ${listing.offset}`
        : await db<IdentifiedRow[]>`
            SELECT ${cols}, ${GUID} FROM schemas AS s
            WHERE TRUE ${prefix} ${live}
            ORDER BY s.subject, s.subject_version
            LIMIT ${listing.limit} OFFSET ${listing.offset}`;
      return rows.map((row) => identified(row)!);
    });
  }

  async findInSubject(
    subject: string,
    schemaType: SchemaType,
    contentHash: string,
    references: readonly SchemaReference[],
    options: { includeDeleted?: boolean } = {},
  ): Promise<IdentifiedRecord | null> {
    const cols = this.shared.columns.record;
    const GUID = this.guid;
    return this.read(async (db) => {
      const live = options.includeDeleted ? db`` : db`AND s.deleted_at IS NULL`;
      const rows = await db<IdentifiedRow[]>`
        SELECT ${cols}, ${GUID} FROM schemas AS s
        WHERE s.subject = ${subject} ${live} AND s.content_id = (
          SELECT c.id FROM schema_contents AS c
          WHERE c.schema_type = ${schemaType} AND c.content_hash = ${contentHash}
            AND c.references_key = ${referencesKey(references)})
        ORDER BY s.deleted_at IS NOT NULL, s.subject_version DESC
        LIMIT 1`;
      return identified(rows[0]);
    }, isNull);
  }

  async referencedBy(subject: string, version: number): Promise<number[]> {
    return this.read((db) => referencingIds(db, subject, [version], null));
  }

  async deleteSubject(
    subject: string,
    options: { permanent: boolean; audit?: WriteContext | undefined },
  ): Promise<SchemaRecord[]> {
    const cols = this.shared.columns.record;
    try {
      const rows = await atomic(this.db.primary, async (tx) => {
        // The lock registry_register takes: no version joins the subject while it is being deleted.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${subject}, 0))`;
        const targets = await tx<{ subject_version: number }[]>`
          SELECT subject_version FROM schemas
          WHERE subject = ${subject} AND deleted_at IS ${options.permanent ? tx`NOT NULL` : tx`NULL`}
          ORDER BY subject_version
          FOR UPDATE`;
        const versions = targets.map((t) => t.subject_version);
        if (versions.length > 0) {
          const referencing = await referencingIds(tx, subject, versions, subject);
          if (referencing.length > 0) throw referencedError(subject, null, referencing);
        }
        const changed = await (options.permanent
          ? tx<SchemaRow[]>`
              DELETE FROM schemas WHERE subject = ${subject} AND deleted_at IS NOT NULL
              RETURNING ${cols}`
          : tx<SchemaRow[]>`
              UPDATE schemas SET deleted_at = now() WHERE subject = ${subject} AND deleted_at IS NULL
              RETURNING ${cols}`);
        if (options.audit) {
          const operation = options.permanent ? "subject.delete_permanent" : "subject.delete";
          const entries = changed
            .map(toSchemaRecord)
            .map((record) => schemaEntry(operation, record, { before: record.contentHash, after: null }));
          await insertAudit(tx, options.audit, entries);
        }
        return changed;
      });
      if (rows.length > 0) this.shared.changed();
      return rows.map(toSchemaRecord).sort((a, b) => a.subjectVersion - b.subjectVersion);
    } catch (error) {
      throw error instanceof RegistryError ? error : toRegistryError(error);
    } finally {
      this.db.reader.wrote();
    }
  }

  private async read<T>(operation: (db: Db) => Promise<T>, missed?: (result: T) => boolean): Promise<T> {
    try {
      return await this.db.reader.run(operation, missed);
    } catch (error) {
      throw toRegistryError(error);
    }
  }
}

/**
 * Content ids of live rows referencing any of the subject's `versions`;
 * rows of `exceptSubject` are left out (a subject deleted whole may reference
 * itself).
 */
export async function referencingIds(
  db: Db,
  subject: string,
  versions: readonly number[],
  exceptSubject: string | null,
): Promise<number[]> {
  const except = exceptSubject === null ? db`` : db`AND r.subject <> ${exceptSubject}`;
  // Containment patterns built in SQL: `[{subject, version}]` is contained in `[{name, subject, version}]`.
  const rows = await db<{ content_id: string }[]>`
    SELECT DISTINCT r.content_id FROM schemas AS r
    WHERE r.deleted_at IS NULL ${except}
      AND r."references" @> ANY (ARRAY(
        SELECT jsonb_build_array(jsonb_build_object('subject', ${subject}::text, 'version', v))
        FROM unnest(${versions as number[]}::integer[]) AS v))
    ORDER BY r.content_id`;
  return rows.map((r) => Number(r.content_id));
}

/** Confluent's 42206: a version other schemas reference cannot be deleted. */
export function referencedError(subject: string, version: number | null, ids: number[]): RegistryError {
  const what = version === null ? `subject ${subject}` : `version ${version} of subject ${subject}`;
  return new RegistryError(
    "conflict",
    `${what} is referenced by schema${ids.length === 1 ? "" : "s"} ${ids.join(", ")}; delete those first`,
    {
      resource: "reference",
      subject,
      ...(version === null ? {} : { version }),
      referenced_by: ids,
    },
  );
}

function identified(row: IdentifiedRow | undefined): IdentifiedRecord | null {
  if (!row) return null;
  return { ...toSchemaRecord(row), guid: row.guid };
}

function isNull(value: unknown): boolean {
  return value === null;
}
