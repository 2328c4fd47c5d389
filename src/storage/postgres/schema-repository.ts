/**
 * SchemaRepository on PostgreSQL through postgres.js: the same code serves a
 * real PostgreSQL server and the embedded PGlite (through its socket server).
 *
 * Every statement is a tagged template (parameterised, prepared); the only
 * `unsafe` text is the constant column lists of schema-rows.ts. Registration
 * is one call of the SQL function registry_register, which takes a
 * transaction-scoped advisory lock on the subject, so concurrent registers of
 * one subject run one after another and idempotency, the head check and
 * `version_exists` are decided on data nobody else is changing. The version
 * itself comes from the caller, which derives it from the evolution context
 * (one statement, always on the primary) and passes the head it saw.
 */
import type postgres from "postgres";
import type { WriteContext } from "../../domain/audit.ts";
import type {
  CompatibilityLevel,
  EffectiveSettings,
  SemverPolicy,
} from "../../domain/compatibility/index.ts";
import { isRegistryError, RegistryError } from "../../domain/errors.ts";
import { isReadOnly, type Mode, readOnlyError } from "../../domain/modes.ts";
import { referencesKey } from "../../domain/references.ts";
import { invalidVersion, parseSemVer, versionKey, versionSortKey } from "../../domain/semver.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
  ReadOptions,
  SchemaRecord,
  SchemaRef,
  SchemaState,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../../domain/types.ts";
import type {
  EvolutionContext,
  LifecycleOutcome,
  LifecycleRequest,
  LifecycleWriteOptions,
  NewSchema,
  RegisterOptions,
  RegisterOutcome,
  SchemaRepository,
  SchemaTransaction,
} from "../schema-repository.ts";
import { insertAudit, registerAudit, schemaEntry } from "./audit-store.ts";
import { PostgresContentKeyLocks } from "./content-key-locks.ts";
import { isDatabaseError, toRegistryError } from "./db-errors.ts";
import { type DbHandles, primaryOnly } from "./handles.ts";
import { referencedError, referencingIds } from "./identity-store.ts";
import { modeInForce, runLifecycleBatch, runLifecycleOne } from "./lifecycle-batch.ts";
import { atomic, type Db, isTransaction, type Tx } from "./pool.ts";
import {
  type Columns,
  type HistoryRow,
  isValidRef,
  refNotFound,
  type SchemaRow,
  toSchemaRecord,
  toStateTransition,
  visible,
} from "./schema-rows.ts";

export interface RepositoryShared {
  columns: Columns;
  /** Told after every change to the table (the materialized views are then stale). */
  changed(): void;
}

interface RegisterRow extends SchemaRow {
  outcome: "found" | "stale" | "clash" | "taken" | "id_clash" | "dangling" | "created";
}

/** One row of evolutionContext's statement: the context, and a schema row when `part` is set. */
interface ContextRow extends SchemaRow {
  compatibility: CompatibilityLevel;
  semver_policy: SemverPolicy;
  /** int8 arrives as a string. */
  head: string;
  highest_version: string | null;
  subject_mode: Mode | null;
  global_mode: Mode | null;
  part: "existing" | "live" | null;
}

export class PostgresSchemaRepository implements SchemaRepository {
  constructor(
    private readonly db: DbHandles,
    private readonly shared: RepositoryShared,
  ) {}

  // ---------------------------------------------------------------- writes

  async register(input: NewSchema, options: RegisterOptions = {}): Promise<RegisterOutcome> {
    // The type requires it, but a JavaScript caller can still leave it out.
    if (typeof input.version !== "string") {
      throw RegistryError.invalidRequest("a schema is registered with a version", { field: "version" });
    }
    const requested = parseSemVer(input.version);
    if (requested === null) throw invalidVersion(input.version);
    // Reads serve the text first: on an object-store row it would pose as inline content.
    if (input.contentLocation === "object_store" && input.contentText !== null) {
      throw new RegistryError("internal", "an object-store schema is registered without content text");
    }
    const references = input.references ?? [];
    return this.write(async (db) => {
      const content = input.content === null ? null : db.json(input.content as postgres.JSONValue);
      // One statement (see registry_register in migrations/004): the subject
      // lock, the idempotency, head and version checks, the content id, the
      // insert and its history row, in one round trip; with the audit entry of a row it creates.
      const [row] = await db<RegisterRow[]>`
        WITH r AS MATERIALIZED (SELECT * FROM registry_register(
          ${input.subject}, ${input.version}, ${versionKey(requested)}, ${versionSortKey(requested)},
          ${input.schemaType}, ${input.state}, ${content}, ${input.contentText}, ${input.contentHash},
          ${input.contentSize}, ${input.contentLocation}, ${input.contentKey},
          ${db.json(input.metadata as postgres.JSONValue)}, ${options.expectedHead ?? null},
          ${db.json(references as unknown as postgres.JSONValue)}, ${referencesKey(references)},
          ${input.contentId ?? null}, ${input.subjectVersion ?? null})) ${registerAudit(db, options.audit)}
        SELECT * FROM r`;
      if (!row) throw new RegistryError("internal", "registration produced no outcome");
      if (row.outcome === "stale") {
        throw new RegistryError(
          "conflict",
          `subject ${input.subject} gained a version while this register was being checked; try again`,
          { subject: input.subject, reason: "subject_changed" },
        );
      }
      if (row.outcome === "clash") {
        const version = versionKey(requested);
        throw new RegistryError(
          "version_exists",
          `version ${version} of subject ${input.subject} already exists with different content`,
          {
            subject: input.subject,
            version,
            existing_id: row.id,
            existing_global_id: Number(row.global_id),
            existing_deleted: row.deleted_at !== null,
          },
        );
      }
      if (row.outcome === "taken") {
        throw new RegistryError(
          "version_exists",
          `version ${row.subject_version} of subject ${input.subject} already exists`,
          {
            resource: "version",
            subject: input.subject,
            version: row.subject_version,
            existing_id: row.id,
            existing_schema_id: Number(row.content_id),
          },
        );
      }
      if (row.outcome === "id_clash") {
        throw new RegistryError(
          "conflict",
          `schema id ${input.contentId} already belongs to another schema, or this schema already has another id`,
          { resource: "schema", id: input.contentId, reason: "id_taken" },
        );
      }
      if (row.outcome === "dangling") {
        throw new RegistryError(
          "invalid_schema",
          "a referenced version no longer exists (it was deleted while this register was checked)",
          { resource: "reference", references },
        );
      }
      const created = row.outcome === "created";
      // A created row's content is what was sent; the function does not send it back.
      const schema = toSchemaRecord(created ? { ...row, content: input.content, content_text: null } : row);
      if (created) this.shared.changed();
      return { schema, created };
    });
  }

  async evolutionContext(
    subject: string,
    contentHash: string,
    defaults: EffectiveSettings,
  ): Promise<EvolutionContext> {
    const cols = this.shared.columns.record;
    // On the primary, even with replicas: a register decides on this and then
    // checks the head it read against the primary's, so a lagging replica
    // would only turn registers into `subject_changed` retries.
    try {
      const rows = await this.db.primary<ContextRow[]>`
        WITH settings AS (
          SELECT coalesce(sc.compatibility, gc.compatibility, ${defaults.compatibility}::text) AS compatibility,
                 coalesce(sc.semver_policy, gc.semver_policy, ${defaults.semverPolicy}::text) AS semver_policy,
                 -- The modes too: a register reads everything it decides on in this one round trip.
                 sc.mode AS subject_mode, gc.mode AS global_mode
          FROM (VALUES (1)) AS one (n)
          LEFT JOIN global_config AS gc ON gc.singleton
          LEFT JOIN subject_config AS sc ON sc.subject = ${subject}
        ), context AS (
          SELECT st.compatibility, st.semver_policy, st.subject_mode, st.global_mode,
                 -- See registry_register (migrations/003) for the + 0.
                 (SELECT coalesce(max(global_id + 0), 0) FROM schemas WHERE subject = ${subject}) AS head,
                 (SELECT version FROM schemas WHERE subject = ${subject}
                  ORDER BY version_sort DESC LIMIT 1) AS highest_version
          FROM settings AS st
        ), existing AS (
          SELECT ${cols}, version_sort FROM schemas
          WHERE subject = ${subject} AND content_hash = ${contentHash} AND deleted_at IS NULL
          ORDER BY version_sort DESC
          LIMIT 1
        ), live AS (
          SELECT ${cols}, version_sort FROM schemas
          WHERE subject = ${subject} AND deleted_at IS NULL
          ORDER BY version_sort DESC
          -- NULL is no limit: every live version under a transitive level.
          LIMIT (SELECT CASE WHEN right(compatibility, 11) = '_TRANSITIVE' THEN NULL ELSE 1 END FROM settings)
        )
        SELECT c.compatibility, c.semver_policy, c.subject_mode, c.global_mode, c.head, c.highest_version, r.*
        FROM context AS c
        LEFT JOIN (
          SELECT 'existing' AS part, * FROM existing
          UNION ALL
          SELECT 'live' AS part, * FROM live
        ) AS r ON true
        ORDER BY r.part, r.version_sort DESC`;
      const first = rows[0];
      if (!first) throw new RegistryError("internal", "the evolution context produced no row");
      const schemaRows = rows.filter((row) => row.part !== null);
      const existing = schemaRows.find((row) => row.part === "existing");
      return {
        settings: { compatibility: first.compatibility, semverPolicy: first.semver_policy },
        head: Number(first.head),
        highestVersion: first.highest_version,
        modes: { subject: first.subject_mode, global: first.global_mode },
        existing: existing ? toSchemaRecord(existing) : null,
        live: schemaRows.filter((row) => row.part === "live").map(toSchemaRecord),
      };
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async updateState(
    ref: SchemaRef,
    to: SchemaState,
    reason: string | null,
    audit?: WriteContext,
    options: LifecycleWriteOptions = {},
  ): Promise<SchemaRecord> {
    if (!isValidRef(ref)) return this.missing(ref, options);
    return this.lifecycleWrite({
      kind: "state",
      ref,
      to,
      reason,
      audit,
      checkMode: options.checkMode === true,
    });
  }

  async softDelete(
    ref: SchemaRef,
    audit?: WriteContext,
    options: LifecycleWriteOptions = {},
  ): Promise<SchemaRecord> {
    if (!isValidRef(ref)) return this.missing(ref, options);
    return this.lifecycleWrite({ kind: "delete", ref, audit, checkMode: options.checkMode === true });
  }

  async applyLifecycle(requests: readonly LifecycleRequest[]): Promise<LifecycleOutcome[]> {
    // A reference no row can have is answered here: the batch statement casts every id to uuid.
    const valid = requests.filter((request) => isValidRef(request.ref));
    const outcomes = new Map<LifecycleRequest, LifecycleOutcome>();
    for (const request of requests) {
      if (valid.includes(request)) continue;
      outcomes.set(
        request,
        await this.missing(request.ref, request).catch((error: unknown) => error as RegistryError),
      );
    }
    if (valid.length > 0) {
      const answered = await this.write(async (db) => {
        if (valid.length > 1) return runLifecycleBatch(db, this.shared.columns, valid);
        // One request alone: the one-request statement, whose plan is cheaper.
        try {
          return [await runLifecycleOne(db, this.shared.columns, valid[0]!)];
        } catch (error) {
          if (isRegistryError(error)) return [error];
          throw error;
        }
      });
      for (const [i, request] of valid.entries()) outcomes.set(request, answered[i]!);
      if (answered.some((outcome) => typeof outcome === "object" && !(outcome instanceof RegistryError))) {
        this.shared.changed();
      }
    }
    return requests.map((request) => outcomes.get(request)!);
  }

  /** One state change or soft delete, as a statement of its own. */
  private lifecycleWrite(request: LifecycleRequest): Promise<SchemaRecord> {
    return this.write(async (db) => {
      const record = await runLifecycleOne(db, this.shared.columns, request);
      this.shared.changed();
      return record;
    });
  }

  async permanentDelete(ref: SchemaRef, audit?: WriteContext): Promise<SchemaRecord> {
    return this.write(async (db) => {
      if (!isValidRef(ref)) throw refNotFound(ref);
      const row = await atomic(db, async (tx) => {
        await refuseWhileReferenced(tx, ref, true);
        const [deleted] = await tx<SchemaRow[]>`
          DELETE FROM schemas
          WHERE ${where(tx, ref)} AND deleted_at IS NOT NULL
          RETURNING ${this.shared.columns.record}`;
        if (deleted && audit) await auditDelete(tx, audit, "schema.delete_permanent", deleted);
        return deleted;
      });
      if (row) {
        this.shared.changed();
        return toSchemaRecord(row);
      }
      const [live] = await db<{ id: string }[]>`SELECT id FROM schemas WHERE ${where(db, ref)}`;
      if (!live) throw refNotFound(ref);
      throw new RegistryError(
        "conflict",
        `schema ${describeRef(ref)} is not soft-deleted; delete it first, then delete it permanently`,
        { id: live.id },
      );
    });
  }

  async transaction<T>(work: (tx: SchemaTransaction) => Promise<T>): Promise<T> {
    const run = (tx: Tx) =>
      work({
        schemas: new PostgresSchemaRepository(primaryOnly(tx), this.shared),
        contentLocks: new PostgresContentKeyLocks(tx),
      });
    const db = this.db.primary;
    try {
      // Inside a transaction a nested one is a savepoint: it can roll back alone.
      const result = isTransaction(db) ? db.savepoint(run) : db.begin(run);
      return (await result) as T;
    } catch (error) {
      // The caller's own errors come back as they were thrown; only the database's are translated.
      throw isDatabaseError(error) ? toRegistryError(error) : error;
    } finally {
      this.db.reader.wrote();
    }
  }

  // ----------------------------------------------------------------- reads

  async getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null> {
    if (!isValidRef(ref)) return null;
    // The hottest read: one primary-key (or unique-index) probe with the
    // columns written out, one prepared statement per key kind, deleted
    // rows filtered here rather than by a parameter.
    return this.read(async (db) => {
      const rows =
        "id" in ref
          ? await db<SchemaRow[]>`
              SELECT id, global_id, subject, version, schema_type, state,
                     CASE WHEN content_text IS NULL THEN content END AS content, content_text, content_hash,
                     content_size, content_location, content_key, metadata, created_at, updated_at, deleted_at,
                     content_id, subject_version, "references"
              FROM schemas WHERE id = ${ref.id}`
          : await db<SchemaRow[]>`
              SELECT id, global_id, subject, version, schema_type, state,
                     CASE WHEN content_text IS NULL THEN content END AS content, content_text, content_hash,
                     content_size, content_location, content_key, metadata, created_at, updated_at, deleted_at,
                     content_id, subject_version, "references"
              FROM schemas WHERE global_id = ${ref.globalId}`;
      return visible(rows[0], options);
    }, isNull);
  }

  async getBySubjectVersion(
    subject: string,
    version: string,
    options?: ReadOptions,
  ): Promise<SchemaRecord | null> {
    const parsed = parseSemVer(version);
    if (!parsed) return null;
    return this.read(async (db) => {
      const rows = await db<SchemaRow[]>`
        SELECT ${this.shared.columns.record} FROM schemas
        WHERE subject = ${subject} AND version_key = ${versionKey(parsed)}`;
      return visible(rows[0], options);
    }, isNull);
  }

  async getLatest(subject: string): Promise<SchemaRecord | null> {
    return this.read(async (db) => {
      // The states are LATEST_ELIGIBLE_STATES written out, so that the query
      // matches the predicate of the partial index schemas_latest_idx.
      const rows = await db<SchemaRow[]>`
        SELECT ${this.shared.columns.record} FROM schemas
        WHERE subject = ${subject} AND deleted_at IS NULL AND state IN ('active', 'deprecated')
        ORDER BY version_sort DESC
        LIMIT 1`;
      return rows[0] ? toSchemaRecord(rows[0]) : null;
    }, isNull);
  }

  async listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>> {
    return this.read(async (db) => {
      // Fragments rather than boolean parameters, so that each combination is
      // its own statement and the planner can use the partial indexes.
      const live = options.includeDeleted ? db`` : db`AND deleted_at IS NULL`;
      const states = options.states && options.states.length > 0 ? options.states : null;
      const inStates = states ? db`AND state = ANY(${states}::text[])` : db``;
      const cols = options.withContent ? this.shared.columns.record : this.shared.columns.listing;
      const [rows, [counts]] = await Promise.all([
        db<SchemaRow[]>`
          SELECT ${cols} FROM schemas
          WHERE subject = ${subject} ${live} ${inStates}
          ORDER BY version_sort DESC
          LIMIT ${options.limit} OFFSET ${options.offset}`,
        db<{ total: number; visible: number }[]>`
          SELECT count(*) FILTER (WHERE TRUE ${inStates})::integer AS total, count(*)::integer AS visible
          FROM schemas
          WHERE subject = ${subject} ${live}`,
      ]);
      // Thrown inside the read: a replica that lags is then asked again on the primary.
      if (!counts || counts.visible === 0) {
        throw RegistryError.notFound(`subject ${subject} does not exist`, { subject });
      }
      return {
        items: rows.map(toSchemaRecord),
        limit: options.limit,
        offset: options.offset,
        total: counts.total,
      };
    });
  }

  async listSubjects(page: PageRequest): Promise<Page<SubjectSummary>> {
    return this.read(async (db) => {
      const [rows, [count]] = await Promise.all([
        db<
          {
            subject: string;
            version_count: number;
            created_at: Date;
            updated_at: Date;
            latest_version: string | null;
          }[]
        >`
          WITH page AS (
            SELECT subject, count(*)::integer AS version_count,
                   min(created_at) AS created_at, max(updated_at) AS updated_at
            FROM schemas
            WHERE deleted_at IS NULL
            GROUP BY subject
            ORDER BY subject
            LIMIT ${page.limit} OFFSET ${page.offset}
          )
          SELECT p.subject, p.version_count, p.created_at, p.updated_at,
                 (SELECT l.version FROM schemas AS l
                  WHERE l.subject = p.subject AND l.deleted_at IS NULL
                    AND l.state IN ('active', 'deprecated')
                  ORDER BY l.version_sort DESC
                  LIMIT 1) AS latest_version
          FROM page AS p
          ORDER BY p.subject`,
        db<{ total: number }[]>`
          SELECT count(DISTINCT subject)::integer AS total FROM schemas WHERE deleted_at IS NULL`,
      ]);
      return {
        items: rows.map((row) => ({
          subject: row.subject,
          latestVersion: row.latest_version,
          versionCount: row.version_count,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        })),
        limit: page.limit,
        offset: page.offset,
        total: count?.total ?? 0,
      };
    });
  }

  async stateHistory(ref: SchemaRef): Promise<StateTransition[]> {
    if (!isValidRef(ref)) throw refNotFound(ref);
    return this.read(async (db) => {
      const rows = await db<(HistoryRow & { target: string })[]>`
        WITH target AS (SELECT id FROM schemas WHERE ${where(db, ref)})
        SELECT t.id AS target, h.schema_id, h.from_state, h.to_state, h.reason, h.changed_at
        FROM target AS t
        LEFT JOIN schema_state_history AS h ON h.schema_id = t.id
        ORDER BY h.changed_at, h.id`;
      if (rows.length === 0) throw refNotFound(ref);
      return rows.filter((row) => row.schema_id !== null).map(toStateTransition);
    });
  }

  async stats(): Promise<StorageStats> {
    return this.read(async (db) => {
      const [row] = await db<Record<string, string>[]>`
        SELECT
          count(*) FILTER (WHERE deleted_at IS NULL) AS total,
          count(*) FILTER (WHERE deleted_at IS NULL AND state = 'draft') AS draft,
          count(*) FILTER (WHERE deleted_at IS NULL AND state = 'active') AS active,
          count(*) FILTER (WHERE deleted_at IS NULL AND state = 'deprecated') AS deprecated,
          count(*) FILTER (WHERE deleted_at IS NULL AND state = 'archived') AS archived,
          count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
          count(DISTINCT subject) FILTER (WHERE deleted_at IS NULL) AS subjects,
          coalesce(sum(content_size) FILTER (WHERE content_location = 'inline'), 0) AS inline_bytes,
          coalesce(sum(content_size) FILTER (WHERE content_location = 'object_store'), 0) AS object_bytes
        FROM schemas`;
      const n = (key: string) => Number(row?.[key] ?? 0);
      return {
        totalSchemas: n("total"),
        draftSchemas: n("draft"),
        activeSchemas: n("active"),
        deprecatedSchemas: n("deprecated"),
        archivedSchemas: n("archived"),
        deletedSchemas: n("deleted"),
        subjects: n("subjects"),
        inlineBytes: n("inline_bytes"),
        objectStoreBytes: n("object_bytes"),
      };
    });
  }

  // ---------------------------------------------------------------- helpers

  /**
   * A reference no row can have: `not_found`, unless the mode check asked for
   * refuses first (the registry's own mode decides, as there is no subject).
   */
  private async missing(ref: SchemaRef, options: LifecycleWriteOptions): Promise<never> {
    if (options.checkMode) {
      const [row] = await this.write(
        (db) =>
          db<
            { mode: Mode }[]
          >`SELECT ${modeInForce(db, options.checkMode === true)} AS mode FROM (VALUES (NULL::text)) AS t (subject)`,
      );
      if (row && isReadOnly(row.mode)) throw readOnlyError(null, row.mode);
    }
    throw refNotFound(ref);
  }

  /** On the primary; the reader hears of it even when it failed (a lost connection may follow a COMMIT). */
  private async write<T>(operation: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await operation(this.db.primary);
    } catch (error) {
      throw toRegistryError(error);
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
 * Refuses to delete a version live rows reference (`conflict`, resource
 * "reference"). The row is locked first, so a concurrent delete of the same
 * row waits; `deleted` picks the row a permanent delete would remove.
 */
async function refuseWhileReferenced(db: Db, ref: SchemaRef, deleted: boolean): Promise<void> {
  const [target] = await db<{ subject: string; subject_version: number }[]>`
    SELECT subject, subject_version FROM schemas
    WHERE ${where(db, ref)} AND deleted_at IS ${deleted ? db`NOT NULL` : db`NULL`}
    FOR UPDATE`;
  if (!target) return;
  const ids = await referencingIds(db, target.subject, [target.subject_version], null);
  if (ids.length > 0) throw referencedError(target.subject, target.subject_version, ids);
}

/** A deleted version's audit entry: its content before, nothing after. */
function auditDelete(
  tx: Db,
  audit: WriteContext,
  operation: "schema.delete" | "schema.delete_permanent",
  row: SchemaRow,
): Promise<void> {
  const record = toSchemaRecord(row);
  return insertAudit(tx, audit, [
    schemaEntry(operation, record, { before: record.contentHash, after: null }),
  ]);
}

function isNull(value: unknown): boolean {
  return value === null;
}

function where(db: Db, ref: SchemaRef) {
  return "id" in ref ? db`id = ${ref.id}` : db`global_id = ${ref.globalId}`;
}

function describeRef(ref: SchemaRef): string {
  return "id" in ref ? ref.id : String(ref.globalId);
}
