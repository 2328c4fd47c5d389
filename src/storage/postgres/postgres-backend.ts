/**
 * StorageBackend on PostgreSQL through postgres.js: the same code serves a real
 * PostgreSQL server and the embedded PGlite (through its socket server).
 *
 * Every statement is a tagged template (parameterised, prepared); the only
 * `unsafe` text is the constant column lists and sort directions of this module.
 * Registration is one call of the SQL function registry_register, which takes
 * a transaction-scoped advisory lock on the subject, so concurrent registers of
 * one subject run one after another and version assignment, idempotency and
 * `version_exists` are decided on data nobody else is changing. Reads are counted in memory (AccessLog) and the materialized
 * views refreshed in the background (ViewRefresher), never inside a request.
 */
import postgres from "postgres";
import { RegistryError } from "../../domain/errors.ts";
import { ALLOWED_TRANSITIONS, canTransition } from "../../domain/lifecycle.ts";
import { parseSemVer, versionKey, versionSortKey } from "../../domain/semver.ts";
import type {
  ListVersionsOptions,
  Page,
  PageRequest,
  ReadOptions,
  SchemaRecord,
  SchemaRef,
  SchemaState,
  SearchHit,
  SearchQuery,
  StateTransition,
  StorageStats,
  SubjectSummary,
} from "../../domain/types.ts";
import type { NewSchema, PopularSchema, RegisterOutcome, StorageBackend } from "../backend.ts";
import { AccessLog } from "./access-log.ts";
import { isDatabaseError, toRegistryError } from "./db-errors.ts";
import { createMigrator } from "./migrator.ts";
import {
  type HistoryRow,
  isUuid,
  LISTING_COLUMNS,
  RECORD_COLUMNS,
  type SchemaRow,
  toSchemaRecord,
  toStateTransition,
} from "./schema-rows.ts";
import { ViewRefresher } from "./view-refresher.ts";

export interface PostgresBackendOptions {
  /** postgres:// URL (for the embedded database, the one `resolveDatabase` returns). */
  url: string;
  /** Pool size. Default 50; the embedded PGlite needs 1 (see pglite-server.ts). */
  maxConnections?: number;
  /** Close connections idle this long. Default 600 s; 0 keeps them. */
  idleTimeoutSeconds?: number;
  /** Replace connections after this long. Default 1800 s; 0 keeps them. */
  maxLifetimeSeconds?: number;
  /** Give up connecting after this long. Default 3 s. */
  connectTimeoutSeconds?: number;
  /** Server-side statement timeout. Default 3000 ms; 0 disables it. */
  statementTimeoutMs?: number;
  /** Apply pending migrations before serving. Default true. */
  migrateOnStart?: boolean;
  /** How often counted reads are written to the access log. Default 5000 ms. */
  accessLogFlushMs?: number;
  /** Delay between a write and the refresh of the materialized views. Default 5000 ms. */
  viewRefreshDebounceMs?: number;
  /** Refresh the views at least this often. Default 300000 ms; 0 disables the schedule. */
  viewRefreshIntervalMs?: number;
  /**
   * How close a word must be to `q` for search to match it (pg_trgm word
   * similarity, 0 to 1). Default 0.4: one typo in a short word still matches.
   */
  searchSimilarityThreshold?: number;
  /** Where background failures (access-log flushes, view refreshes, migrations) are reported. */
  log?: BackendLog;
}

export interface BackendLog {
  info(message: string): void;
  error(message: string, error: unknown): void;
}

const consoleLog: BackendLog = {
  info: (message) => console.info(message),
  error: (message, error) => console.error(message, error),
};

/** First key of the advisory locks on object-store content keys ("S3"). */
const CONTENT_KEY_LOCKS = 0x5333;

/** Statement timeout inside a refresh's own transaction: a refresh may take longer than a request. */
const REFRESH_STATEMENT_TIMEOUT = "120s";

type Db = postgres.ISql;
type Tx = postgres.TransactionSql;

/** What a root backend and the backends bound to its transactions share. */
interface Shared {
  sql: postgres.Sql;
  accessLog: AccessLog;
  views: ViewRefresher;
  recordColumns: postgres.PendingQuery<postgres.Row[]>;
  listingColumns: postgres.PendingQuery<postgres.Row[]>;
  searchThreshold: number;
}

interface RegisterRow extends SchemaRow {
  outcome: "found" | "clash" | "created";
}

export class PostgresBackend implements StorageBackend {
  /** `tx` is set when this backend is bound to an open transaction. */
  private constructor(
    private readonly shared: Shared,
    private readonly db: Db,
    private readonly tx: Tx | null,
  ) {}

  /** @internal Use createPostgresBackend. */
  static root(shared: Shared): PostgresBackend {
    return new PostgresBackend(shared, shared.sql, null);
  }

  // ---------------------------------------------------------------- writes

  async register(input: NewSchema): Promise<RegisterOutcome> {
    const requested = input.version === undefined ? null : parseSemVer(input.version);
    if (input.version !== undefined && requested === null) {
      throw RegistryError.invalidRequest(
        `version ${JSON.stringify(input.version)} is not a semantic version`,
        {
          version: input.version,
        },
      );
    }
    return this.guard(async () => {
      const db = this.db;
      const content = input.content === null ? null : db.json(input.content as postgres.JSONValue);
      // One statement (see registry_register in migrations/001): the subject
      // lock, the idempotency and version checks, the insert and its history
      // row, in one round trip. With no version the function assigns the next minor.
      const [row] = await db<RegisterRow[]>`
        SELECT * FROM registry_register(
          ${input.subject}, ${input.version ?? null}, ${requested ? versionKey(requested) : null},
          ${requested ? versionSortKey(requested) : null}, ${input.schemaType}, ${input.state}, ${content},
          ${input.contentHash}, ${input.contentSize}, ${input.contentLocation}, ${input.contentKey},
          ${db.json(input.metadata as postgres.JSONValue)})`;
      if (!row) throw new RegistryError("internal", "registration produced no outcome");
      if (row.outcome === "clash") {
        const version = versionKey(requested!);
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
      const created = row.outcome === "created";
      // A created row's content is what was sent; the function does not send it back.
      const schema = toSchemaRecord(created ? { ...row, content: input.content } : row);
      if (created) this.shared.views.markStale();
      return { schema, created };
    });
  }

  async updateState(ref: SchemaRef, to: SchemaState, reason: string | null): Promise<SchemaRecord> {
    if (!isValidRef(ref)) throw notFound(ref);
    return this.guard(async () => {
      const record = await this.atomic(async (tx) => {
        const [current] = await tx<{ id: string; state: SchemaState; deleted_at: Date | null }[]>`
          SELECT id, state, deleted_at FROM schemas WHERE ${this.where(tx, ref)} FOR UPDATE`;
        if (!current || current.deleted_at !== null) throw notFound(ref);
        if (!canTransition(current.state, to)) {
          const allowed = ALLOWED_TRANSITIONS[current.state];
          throw new RegistryError(
            "invalid_transition",
            `a schema cannot move from ${current.state} to ${to}` +
              (allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ` (${current.state} is final)`),
            { from: current.state, to, allowed: [...allowed] },
          );
        }
        const [changed] = await tx<SchemaRow[]>`
          WITH changed AS (
            UPDATE schemas SET state = ${to} WHERE id = ${current.id} RETURNING ${this.shared.recordColumns}
          ), logged AS (
            INSERT INTO schema_state_history (schema_id, from_state, to_state, reason)
            SELECT id, ${current.state}, ${to}, ${reason} FROM changed
          )
          SELECT * FROM changed`;
        return toSchemaRecord(changed!);
      });
      this.shared.views.markStale();
      return record;
    });
  }

  async softDelete(ref: SchemaRef): Promise<SchemaRecord> {
    return this.guard(async () => {
      if (!isValidRef(ref)) throw notFound(ref);
      const [row] = await this.db<SchemaRow[]>`
        UPDATE schemas SET deleted_at = now()
        WHERE ${this.where(this.db, ref)} AND deleted_at IS NULL
        RETURNING ${this.shared.recordColumns}`;
      if (!row) throw notFound(ref);
      this.shared.views.markStale();
      return toSchemaRecord(row);
    });
  }

  async permanentDelete(ref: SchemaRef): Promise<SchemaRecord> {
    return this.guard(async () => {
      if (!isValidRef(ref)) throw notFound(ref);
      const [row] = await this.db<SchemaRow[]>`
        DELETE FROM schemas
        WHERE ${this.where(this.db, ref)} AND deleted_at IS NOT NULL
        RETURNING ${this.shared.recordColumns}`;
      if (row) {
        this.shared.views.markStale();
        return toSchemaRecord(row);
      }
      const [live] = await this.db<
        { id: string }[]
      >`SELECT id FROM schemas WHERE ${this.where(this.db, ref)}`;
      if (!live) throw notFound(ref);
      throw new RegistryError(
        "conflict",
        `schema ${describeRef(ref)} is not soft-deleted; delete it first, then delete it permanently`,
        { id: live.id },
      );
    });
  }

  async transaction<T>(work: (tx: StorageBackend) => Promise<T>): Promise<T> {
    const run = (tx: Tx) => work(new PostgresBackend(this.shared, tx, tx));
    try {
      // Inside a transaction a nested one is a savepoint: it can roll back alone.
      const result = this.tx ? this.tx.savepoint(run) : this.shared.sql.begin(run);
      return (await result) as T;
    } catch (error) {
      // The caller's own errors come back as they were thrown; only the database's are translated.
      throw isDatabaseError(error) ? toRegistryError(error) : error;
    }
  }

  // ----------------------------------------------------------------- reads

  async getById(ref: SchemaRef, options?: ReadOptions): Promise<SchemaRecord | null> {
    if (!isValidRef(ref)) return null;
    try {
      // The hottest read: one primary-key (or unique-index) probe with the
      // columns written out, one prepared statement per key kind, deleted
      // rows filtered here rather than by a parameter.
      const rows =
        "id" in ref
          ? await this.db<SchemaRow[]>`
              SELECT id, global_id, subject, version, schema_type, state, content, content_hash, content_size,
                     content_location, content_key, metadata, created_at, updated_at, deleted_at
              FROM schemas WHERE id = ${ref.id}`
          : await this.db<SchemaRow[]>`
              SELECT id, global_id, subject, version, schema_type, state, content, content_hash, content_size,
                     content_location, content_key, metadata, created_at, updated_at, deleted_at
              FROM schemas WHERE global_id = ${ref.globalId}`;
      return visible(rows[0], options);
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async getBySubjectVersion(
    subject: string,
    version: string,
    options?: ReadOptions,
  ): Promise<SchemaRecord | null> {
    const parsed = parseSemVer(version);
    if (!parsed) return null;
    return this.guard(async () => {
      const rows = await this.db<SchemaRow[]>`
        SELECT ${this.shared.recordColumns} FROM schemas
        WHERE subject = ${subject} AND version_key = ${versionKey(parsed)}`;
      return visible(rows[0], options);
    });
  }

  async getLatest(subject: string): Promise<SchemaRecord | null> {
    return this.guard(async () => {
      // The states are LATEST_ELIGIBLE_STATES written out, so that the query
      // matches the predicate of the partial index schemas_latest_idx.
      const rows = await this.db<SchemaRow[]>`
        SELECT ${this.shared.recordColumns} FROM schemas
        WHERE subject = ${subject} AND deleted_at IS NULL AND state IN ('active', 'deprecated')
        ORDER BY version_sort DESC
        LIMIT 1`;
      return rows[0] ? toSchemaRecord(rows[0]) : null;
    });
  }

  async listVersions(subject: string, options: ListVersionsOptions): Promise<Page<SchemaRecord>> {
    return this.guard(async () => {
      const db = this.db;
      // Fragments rather than boolean parameters, so that each combination is
      // its own statement and the planner can use the partial indexes.
      const live = options.includeDeleted ? db`` : db`AND deleted_at IS NULL`;
      const states = options.states && options.states.length > 0 ? options.states : null;
      const inStates = states ? db`AND state = ANY(${states}::text[])` : db``;
      const cols = options.withContent ? this.shared.recordColumns : this.shared.listingColumns;
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
    return this.guard(async () => {
      const [rows, [count]] = await Promise.all([
        this.db<
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
        this.db<{ total: number }[]>`
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

  async search(query: SearchQuery): Promise<Page<SearchHit>> {
    const q = query.q?.trim() ?? "";
    // Trigrams need three characters; a shorter query is a plain substring match.
    const fuzzy = q.length >= 3;
    return this.guard(async () => {
      if (!fuzzy) return this.runSearch(this.db, query, q, fuzzy);
      // `<%` compares against a session setting; set it for this transaction only.
      // The planner prices a trigram comparison like any cheap operator, so on
      // tables of a few thousand rows it scans them all and compares each
      // (about 15 µs a row) rather than asking the trigram index for the
      // candidates first, which measured 4–6x faster. Sequential scans are
      // therefore off for this transaction, whose only other statement is the
      // search itself (see runSearch's candidate step).
      return this.atomic(async (tx) => {
        const threshold = tx`
          SELECT set_config('pg_trgm.word_similarity_threshold', ${String(this.shared.searchThreshold)}, true),
                 set_config('enable_seqscan', 'off', true)`;
        const [, page] = await Promise.all([threshold.execute(), this.runSearch(tx, query, q, fuzzy)]);
        return page;
      });
    });
  }

  private async runSearch(db: Db, query: SearchQuery, q: string, fuzzy: boolean): Promise<Page<SearchHit>> {
    const conditions: postgres.PendingQuery<postgres.Row[]>[] = [];
    if (!query.includeDeleted) conditions.push(db`deleted_at IS NULL`);
    if (q !== "") {
      const contains = `%${escapeLike(q)}%`;
      // Fuzzy: the candidates come from the trigram index alone, in a step of
      // their own, so no cheaper-looking index (a partial one on deleted_at,
      // say) can turn the text match into a per-row filter.
      conditions.push(fuzzy ? db`id IN (SELECT id FROM text_candidates)` : db`search_text ILIKE ${contains}`);
    }
    if (query.subject) {
      conditions.push(
        query.subject.includes("*")
          ? db`subject LIKE ${escapeLike(query.subject).replaceAll("*", "%")}`
          : db`subject = ${query.subject}`,
      );
    }
    if (query.schemaType) conditions.push(db`schema_type = ${query.schemaType}`);
    if (query.states && query.states.length > 0) conditions.push(db`state = ANY(${query.states}::text[])`);
    if (query.owner) conditions.push(db`metadata ->> 'owner' = ${query.owner}`);
    if (query.tags && query.tags.length > 0) {
      conditions.push(db`metadata @> ${db.json({ tags: query.tags })}::jsonb`);
    }
    if (query.metadata && Object.keys(query.metadata).length > 0) {
      conditions.push(db`metadata @> ${db.json(query.metadata as postgres.JSONValue)}::jsonb`);
    }
    const where = conditions.reduce((all, condition) => db`${all} AND ${condition}`, db`TRUE`);
    const score = q !== "" ? db`word_similarity(${q}, search_text)` : db`NULL::real`;
    const cols = query.withContent ? this.shared.recordColumns : this.shared.listingColumns;
    // One statement: the window count rides along with the page, so the
    // filter (a trigram comparison per row for `q`) is evaluated once, not
    // again by a separate count query.
    const candidates =
      fuzzy && q !== ""
        ? db`WITH text_candidates AS MATERIALIZED (
               SELECT id FROM schemas WHERE search_text ILIKE ${`%${escapeLike(q)}%`} OR ${q} <% search_text)`
        : db``;
    const rows = await db<(SchemaRow & { score: number | null; total: number })[]>`
      ${candidates}
      SELECT ${cols}, ${score} AS score, count(*) OVER ()::integer AS total
      FROM schemas
      WHERE ${where}
      ORDER BY ${orderBy(db, query.sort, q !== "")}
      LIMIT ${query.limit} OFFSET ${query.offset}`;
    let total = rows[0]?.total;
    if (total === undefined) {
      // A page past the end carries no row to read the count from.
      total =
        query.offset === 0
          ? 0
          : ((
              await db<
                { total: number }[]
              >`${candidates} SELECT count(*)::integer AS total FROM schemas WHERE ${where}`
            )[0]?.total ?? 0);
    }
    return {
      items: rows.map(({ total: _total, ...row }) => ({ ...toSchemaRecord(row), score: row.score })),
      limit: query.limit,
      offset: query.offset,
      total,
    };
  }

  async stateHistory(ref: SchemaRef): Promise<StateTransition[]> {
    if (!isValidRef(ref)) throw notFound(ref);
    return this.guard(async () => {
      const rows = await this.db<(HistoryRow & { target: string })[]>`
        WITH target AS (SELECT id FROM schemas WHERE ${this.where(this.db, ref)})
        SELECT t.id AS target, h.schema_id, h.from_state, h.to_state, h.reason, h.changed_at
        FROM target AS t
        LEFT JOIN schema_state_history AS h ON h.schema_id = t.id
        ORDER BY h.changed_at, h.id`;
      if (rows.length === 0) throw notFound(ref);
      return rows.filter((row) => row.schema_id !== null).map(toStateTransition);
    });
  }

  /** Live schemas by state; `deletedSchemas` and the byte counts include soft-deleted rows, which still hold storage. */
  async stats(): Promise<StorageStats> {
    return this.guard(async () => {
      const [row] = await this.db<Record<string, string>[]>`
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

  // ----------------------------------------------------- access log, views

  recordRead(schemaId: string): void {
    this.shared.accessLog.record(schemaId);
  }

  async popularSchemas(limit: number): Promise<PopularSchema[]> {
    return this.guard(async () => {
      // Joined to the live table so that deletes show at once, not at the next refresh.
      const rows = await this.db<{ schema_id: string; reads: string }[]>`
        SELECT p.schema_id, p.reads
        FROM popular_schemas AS p
        JOIN schemas AS s ON s.id = p.schema_id AND s.deleted_at IS NULL
        ORDER BY p.reads DESC, p.schema_id
        LIMIT ${limit}`;
      return rows.map((row) => ({ schemaId: row.schema_id, reads: Number(row.reads) }));
    });
  }

  /** Writes the reads counted so far. Never rejects; failures are logged and counted. */
  flushAccessLog(): Promise<void> {
    return this.shared.accessLog.flush();
  }

  /** Access-log flushes that failed since start. */
  get accessLogFailures(): number {
    return this.shared.accessLog.failures;
  }

  /** Refreshes the materialized views now (after one in progress). Never rejects. */
  refreshViews(): Promise<void> {
    return this.shared.views.refreshNow();
  }

  get viewRefreshFailures(): number {
    return this.shared.views.failures;
  }

  // ---------------------------------------------------- object-store content

  async contentKeysReferenced(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    return this.guard(async () => {
      const rows = await this.db<{ content_key: string }[]>`
        SELECT DISTINCT content_key FROM schemas WHERE content_key = ANY(${keys as string[]}::text[])`;
      return new Set(rows.map((row) => row.content_key));
    });
  }

  async lockContentKey(key: string, mode: "shared" | "exclusive"): Promise<void> {
    if (!this.tx) {
      throw new RegistryError(
        "internal",
        "a content key lock lasts until its transaction ends: take it inside transaction()",
      );
    }
    await this.guard(async () => {
      // The two-key form: a lock space of its own, apart from registry_register's subject locks.
      if (mode === "shared") {
        await this.db`SELECT pg_advisory_xact_lock_shared(${CONTENT_KEY_LOCKS}::int4, hashtext(${key}))`;
      } else {
        await this.db`SELECT pg_advisory_xact_lock(${CONTENT_KEY_LOCKS}::int4, hashtext(${key}))`;
      }
    });
  }

  // -------------------------------------------------------------- lifecycle

  async ping(): Promise<void> {
    await this.guard(async () => {
      await this.db`SELECT 1`;
    });
  }

  async close(): Promise<void> {
    if (this.tx) {
      throw new RegistryError(
        "internal",
        "close() belongs to the backend that owns the pool, not a transaction",
      );
    }
    this.shared.accessLog.stop();
    await this.shared.views.stop();
    await this.shared.accessLog.flush();
    await this.shared.sql.end({ timeout: 5 });
  }

  // ---------------------------------------------------------------- helpers

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  /** Runs work in this backend's transaction, or in a new one. */
  private async atomic<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.tx) return work(this.tx);
    return (await this.shared.sql.begin(work)) as T;
  }

  private where(db: Db, ref: SchemaRef): postgres.PendingQuery<postgres.Row[]> {
    return "id" in ref ? db`id = ${ref.id}` : db`global_id = ${ref.globalId}`;
  }
}

function isValidRef(ref: SchemaRef): boolean {
  return "id" in ref ? isUuid(ref.id) : Number.isSafeInteger(ref.globalId) && ref.globalId > 0;
}

function describeRef(ref: SchemaRef): string {
  return "id" in ref ? ref.id : String(ref.globalId);
}

function notFound(ref: SchemaRef): RegistryError {
  return RegistryError.notFound(`schema ${describeRef(ref)} does not exist`, {
    id: describeRef(ref),
  });
}

function visible(row: SchemaRow | undefined, options: ReadOptions | undefined): SchemaRecord | null {
  if (!row) return null;
  if (row.deleted_at !== null && options?.includeDeleted !== true) return null;
  return toSchemaRecord(row);
}

/** Escapes LIKE's wildcards and its escape character, so user text matches literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

function orderBy(
  db: Db,
  sort: SearchQuery["sort"],
  hasQuery: boolean,
): postgres.PendingQuery<postgres.Row[]> {
  // Constant text only: the direction comes from a boolean, never from input.
  const dir = db.unsafe(sort.descending ? "DESC" : "ASC");
  switch (sort.field) {
    case "relevance":
      return hasQuery
        ? db`score ${dir}, subject, version_sort DESC, global_id`
        : db`subject, version_sort DESC, global_id`;
    case "created_at":
      return db`created_at ${dir}, global_id ${dir}`;
    case "subject":
      return db`subject ${dir}, version_sort DESC, global_id`;
    case "version":
      return db`version_sort ${dir}, subject, global_id`;
  }
}

/** Opens the pool, applies pending migrations (unless told not to) and starts the background work. */
export async function createPostgresBackend(options: PostgresBackendOptions): Promise<PostgresBackend> {
  const log = options.log ?? consoleLog;
  const statementTimeoutMs = options.statementTimeoutMs ?? 3000;
  const sql = postgres(options.url, {
    max: options.maxConnections ?? 50,
    idle_timeout: options.idleTimeoutSeconds ?? 600,
    max_lifetime: options.maxLifetimeSeconds ?? 1800,
    connect_timeout: options.connectTimeoutSeconds ?? 3,
    prepare: true,
    onnotice: () => {},
    connection: {
      application_name: "schema-registry",
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    },
  });
  try {
    if (options.migrateOnStart ?? true) {
      const migrator = await createMigrator(sql, (message) => log.info(message));
      await migrator.run();
    }
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw toRegistryError(error);
  }

  const accessLog = new AccessLog(
    async (ids, reads) => {
      // Reads of schemas deleted meanwhile are dropped by the join instead of
      // failing the batch on the foreign key.
      await sql`
        INSERT INTO schema_access_log (schema_id, bucket, reads)
        SELECT r.schema_id, date_trunc('hour', now()), r.reads
        FROM unnest(${ids}::uuid[], ${reads}::bigint[]) AS r (schema_id, reads)
        JOIN schemas AS s ON s.id = r.schema_id
        ON CONFLICT (schema_id, bucket) DO UPDATE SET reads = schema_access_log.reads + excluded.reads`;
    },
    {
      flushIntervalMs: options.accessLogFlushMs ?? 5000,
      maxPending: 50_000,
      batchSize: 5_000,
      onError: (error) => log.error("access log flush failed", error),
      onFlushed: () => views.markStale(),
    },
  );
  const views = new ViewRefresher(
    async () => {
      await sql.begin(async (tx) => {
        await tx`SELECT set_config('statement_timeout', ${REFRESH_STATEMENT_TIMEOUT}, true)`;
        await tx`REFRESH MATERIALIZED VIEW CONCURRENTLY popular_schemas`;
        await tx`REFRESH MATERIALIZED VIEW CONCURRENTLY subject_versions`;
      });
    },
    {
      debounceMs: options.viewRefreshDebounceMs ?? 5000,
      intervalMs: options.viewRefreshIntervalMs ?? 300_000,
      onError: (error) => log.error("materialized view refresh failed", error),
    },
  );
  accessLog.start();
  views.start();
  return PostgresBackend.root({
    sql,
    accessLog,
    views,
    recordColumns: sql.unsafe(RECORD_COLUMNS),
    listingColumns: sql.unsafe(LISTING_COLUMNS),
    searchThreshold: options.searchSimilarityThreshold ?? 0.4,
  });
}
