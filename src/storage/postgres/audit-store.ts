/**
 * The audit log on PostgreSQL (`audit_log`, migration 007): the insert the
 * storage's write methods run inside their own transaction (`insertAudit`;
 * `registerAudit` and `lifecycleAudit`, CTEs that ride in a register's, state
 * change's or soft delete's one statement so they gain no round trip), the
 * reads of `GET /audit`, and the retention: `AuditPruner` deletes entries older than the retention on a
 * timer, in batches, so a prune never holds a long lock or a long statement.
 */
import type postgres from "postgres";
import type { ApiKey } from "../../domain/api-keys.ts";
import type { AuditEntry, AuditOperation, AuditPage, AuditQuery, WriteContext } from "../../domain/audit.ts";
import type { SchemaRecord } from "../../domain/types.ts";
import { backgroundInterval } from "../../runtime/timers.ts";
import type { AuditLog, NewAuditEntry } from "../audit-log.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import type { Db } from "./pool.ts";

interface AuditRow {
  id: string;
  at: Date;
  actor_id: string;
  actor_kind: string;
  request_id: string | null;
  operation: string;
  subject: string | null;
  version: string | null;
  subject_version: number | null;
  schema_id: string | null;
  content_id: string | null;
  hash_before: string | null;
  hash_after: string | null;
  details: Record<string, unknown>;
}

/** Entries deleted per statement by a prune: short statements, short locks. */
const PRUNE_BATCH = 5_000;

/** Adds `entries`, attributed to `context`, in one statement on `db` (the write's transaction). */
export async function insertAudit(
  db: Db,
  context: WriteContext,
  entries: readonly NewAuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    actor_id: context.actor.id,
    actor_kind: context.actor.kind,
    request_id: context.requestId,
    operation: entry.operation,
    subject: entry.subject ?? null,
    version: entry.version ?? null,
    subject_version: entry.subjectVersion ?? null,
    schema_id: entry.schemaId ?? null,
    content_id: entry.contentId ?? null,
    hash_before: entry.hashBefore ?? null,
    hash_after: entry.hashAfter ?? null,
    details: entry.details ?? {},
  }));
  await db`
    INSERT INTO audit_log (actor_id, actor_kind, request_id, operation, subject, version, subject_version,
                           schema_id, content_id, hash_before, hash_after, details)
    SELECT r.actor_id, r.actor_kind, r.request_id, r.operation, r.subject, r.version, r.subject_version,
           r.schema_id, r.content_id, r.hash_before, r.hash_after, coalesce(r.details, '{}'::jsonb)
    FROM jsonb_to_recordset(${db.json(rows as unknown as postgres.JSONValue)}) AS r (
      actor_id text, actor_kind text, request_id text, operation text, subject text, version text,
      subject_version integer, schema_id uuid, content_id bigint, hash_before text, hash_after text,
      details jsonb)`;
}

/** The entry of a write to one schema version. */
export function schemaEntry(
  operation: AuditOperation,
  schema: SchemaRecord,
  hashes: { before: string | null; after: string | null },
  details?: Record<string, unknown>,
): NewAuditEntry {
  return {
    operation,
    subject: schema.subject,
    version: schema.version,
    subjectVersion: schema.subjectVersion,
    schemaId: schema.id,
    contentId: schema.contentId,
    hashBefore: hashes.before,
    hashAfter: hashes.after,
    ...(details ? { details } : {}),
  };
}

/** The entry of an API key created or revoked: the key's id, role and limits (never its secret). */
export function keyEntry(
  operation: "key.create" | "key.revoke",
  key: Pick<ApiKey, "id" | "role" | "subjects" | "expiresAt">,
): NewAuditEntry {
  return {
    operation,
    details: {
      key_id: key.id,
      role: key.role,
      subjects: key.subjects,
      expires_at: key.expiresAt?.toISOString() ?? null,
    },
  };
}

/**
 * A CTE (to follow `WITH r AS (SELECT * FROM registry_register(…))`) that
 * records a register which created a row, in the register's own statement.
 * `hash_before` is the subject's highest live version before it: the
 * statement's snapshot predates the row the function inserts.
 */
export function registerAudit(db: Db, context: WriteContext | undefined) {
  if (!context) return db``;
  return db`, audited AS (
    INSERT INTO audit_log (actor_id, actor_kind, request_id, operation, subject, version, subject_version,
                           schema_id, content_id, hash_before, hash_after)
    SELECT ${context.actor.id}, ${context.actor.kind}, ${context.requestId}, 'schema.register', r.subject,
           r.version, r.subject_version, r.id, r.content_id,
           (SELECT p.content_hash FROM schemas AS p
            WHERE p.subject = r.subject AND p.deleted_at IS NULL
            ORDER BY p.version_sort DESC LIMIT 1),
           r.content_hash
    FROM r WHERE r.outcome = 'created')`;
}

/**
 * A CTE (to follow a CTE `changed` holding the row a state change or soft
 * delete wrote, `RETURNING` the record's columns) that records that write in
 * the write's own statement: the entry `schemaEntry` would make, the content
 * hash before and (unless `deleted`) after, and `details` as a jsonb
 * expression over `c` (the changed row).
 */
export function lifecycleAudit(
  db: Db,
  context: WriteContext | undefined,
  operation: "schema.state_change" | "schema.delete",
  details: postgres.PendingQuery<postgres.Row[]>,
  deleted: boolean,
) {
  if (!context) return db``;
  return db`, audited AS (
    INSERT INTO audit_log (actor_id, actor_kind, request_id, operation, subject, version, subject_version,
                           schema_id, content_id, hash_before, hash_after, details)
    SELECT ${context.actor.id}, ${context.actor.kind}, ${context.requestId}, ${operation}, c.subject, c.version,
           c.subject_version, c.id, c.content_id, c.content_hash, ${deleted ? db`NULL` : db`c.content_hash`},
           ${details}
    FROM changed AS c)`;
}

export class PostgresAuditLog implements AuditLog {
  constructor(private readonly db: DbHandles) {}

  async list(query: AuditQuery): Promise<AuditPage> {
    try {
      const rows = await this.db.reader.run(async (db) => {
        const subject = query.subject === undefined ? db`` : db`AND subject = ${query.subject}`;
        const actor = query.actor === undefined ? db`` : db`AND actor_id = ${query.actor}`;
        const operation = query.operation === undefined ? db`` : db`AND operation = ${query.operation}`;
        const since = query.since === undefined ? db`` : db`AND at >= ${query.since}`;
        const before = query.before === undefined ? db`` : db`AND id < ${query.before}`;
        // One more than the page: whether there is a next page, without a count.
        return db<AuditRow[]>`
          SELECT id, at, actor_id, actor_kind, request_id, operation, subject, version, subject_version,
                 schema_id, content_id, hash_before, hash_after, details
          FROM audit_log
          WHERE TRUE ${subject} ${actor} ${operation} ${since} ${before}
          ORDER BY id DESC
          LIMIT ${query.limit + 1}`;
      });
      const items = rows.slice(0, query.limit).map(toAuditEntry);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > query.limit && last ? last.id : null };
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async record(context: WriteContext, entry: NewAuditEntry): Promise<void> {
    try {
      await insertAudit(this.db.primary, context, [entry]);
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  async prune(before: Date): Promise<number> {
    try {
      let total = 0;
      for (;;) {
        // SKIP LOCKED: instances pruning at the same moment share the work instead of waiting on each other.
        const deleted = await this.db.primary`
          DELETE FROM audit_log WHERE id IN (
            SELECT id FROM audit_log WHERE at < ${before} ORDER BY id LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED)`;
        total += deleted.count;
        if (deleted.count < PRUNE_BATCH) return total;
      }
    } catch (error) {
      throw toRegistryError(error);
    }
  }
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    at: row.at,
    actor: { id: row.actor_id, kind: row.actor_kind as AuditEntry["actor"]["kind"] },
    requestId: row.request_id,
    operation: row.operation as AuditOperation,
    subject: row.subject,
    version: row.version,
    subjectVersion: row.subject_version,
    schemaId: row.schema_id,
    contentId: row.content_id === null ? null : Number(row.content_id),
    hashBefore: row.hash_before,
    hashAfter: row.hash_after,
    details: row.details,
  };
}

export interface AuditPrunerOptions {
  /** Entries older than this many days go; 0 keeps them forever (no pruning). */
  retentionDays: number;
  /** How often a prune runs (each instance; they share the work). */
  intervalMs: number;
  onError: (error: unknown) => void;
  /** Told how many entries each prune removed. */
  onPruned?: (count: number) => void;
}

/** The retention's periodic step, on the pattern of the view refresher: a timer, never overlapping runs. */
export class AuditPruner {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly audit: Pick<AuditLog, "prune">,
    private readonly options: AuditPrunerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.options.retentionDays <= 0 || this.options.intervalMs <= 0) return;
    this.timer ??= backgroundInterval(() => void this.pruneNow(), this.options.intervalMs);
  }

  /** Prunes now (or joins the prune in progress); answers how many went; never rejects. */
  pruneNow(): Promise<number> {
    if (this.options.retentionDays <= 0 || this.stopped) return Promise.resolve(0);
    this.running ??= (async () => {
      try {
        const cutoff = new Date(this.now() - this.options.retentionDays * 86_400_000);
        const count = await this.audit.prune(cutoff);
        this.options.onPruned?.(count);
        return count;
      } catch (error) {
        this.options.onError(error);
        return 0;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
