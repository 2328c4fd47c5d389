/**
 * The statements of state changes and soft deletes, several at once or one.
 *
 * `runLifecycleBatch` is the group commit's statement (see
 * registry/lifecycle-batcher.ts): the requests as arrays through unnest, one
 * statement and so one transaction and one commit for all of them. Measured
 * on this machine, a state change or soft delete costs PostgreSQL about
 * 0.3 ms of CPU in its rows (the lock, the update and its search trigger,
 * the history row and the audit entry) and as much again in what every
 * statement and commit costs, which a batch pays once. `runLifecycleOne` is
 * the one-request statement: what a batch of one and a write inside a
 * transaction run, as its plan is much cheaper than the batch's for one row.
 *
 * Every request keeps its own outcome: its changed row, or its own error
 * (read-only mode, not found, invalid transition, referenced), its own
 * history row and audit entry; the checks decide inside the statement, in the
 * order the API answers them, and nothing is written for a request one of
 * them refuses. The statement is all or nothing: when it fails as a whole,
 * nothing of it stays.
 *
 * One UPDATE cannot change a row twice: of two requests reaching one row, the
 * first takes it and the other is answered `again`. A batch skips a row that
 * another transaction holds locked (a register referencing it, say) instead
 * of waiting with every other request behind it, and answers that request
 * `alone`. Rows are locked in id order, so concurrent batches cannot deadlock
 * on each other.
 */

import { RegistryError } from "../../domain/errors.ts";
import { ALLOWED_TRANSITIONS, canTransition } from "../../domain/lifecycle.ts";
import { isReadOnly, type Mode, readOnlyError } from "../../domain/modes.ts";
import { SCHEMA_STATES, type SchemaRecord, type SchemaRef, type SchemaState } from "../../domain/types.ts";
import type { LifecycleOutcome, LifecycleRequest } from "../schema-repository.ts";
import { lifecycleAudit } from "./audit-store.ts";
import { referencedError } from "./identity-store.ts";
import type { Db } from "./pool.ts";
import { type Columns, refNotFound, type SchemaRow, toSchemaRecord } from "./schema-rows.ts";

/** What the batch statement answers per request: the checks' inputs, and the row if it changed. */
type BatchRow = Partial<SchemaRow> & {
  item: number;
  busy: boolean;
  target_subject: string | null;
  target_version: number | null;
  current_state: SchemaState | null;
  deleted: boolean | null;
  nth: string | null;
  mode: Mode;
  /** Content ids of the live versions that reference the target (int8 arrives as a string). */
  referrers: string[] | null;
};

/**
 * Runs `requests` as one statement on `db` (the pool: its own transaction; a
 * transaction: inside it). For each request, in one pass: its row locked (in
 * id order, so concurrent batches cannot deadlock on each other), the mode in
 * force read, the transition or the live referrers checked, the row updated,
 * a state change's history row and each change's audit entry written. The
 * checks decide inside the statement; nothing is written for a request one
 * of them refuses.
 */
export async function runLifecycleBatch(
  db: Db,
  columns: Columns,
  requests: readonly LifecycleRequest[],
): Promise<LifecycleOutcome[]> {
  // Every array goes as text[] and is cast in the statement: postgres.js
  // serializes a parameter by the type the server describes, and its bool
  // serializer turns any string into false.
  const column = (value: (request: LifecycleRequest) => string | null) => requests.map(value);
  const ids = column((r) => ("id" in r.ref ? r.ref.id : null));
  const globalIds = column((r) => ("globalId" in r.ref ? String(r.ref.globalId) : null));
  const kinds = column((r) => r.kind);
  const targets = column((r) => (r.kind === "state" ? r.to : null));
  // The states a request's target state may be reached from: the row must be in one when it is locked.
  const from = column((r) =>
    r.kind === "state" ? SCHEMA_STATES.filter((state) => canTransition(state, r.to)).join(",") : null,
  );
  const reasons = column((r) => (r.kind === "state" ? r.reason : null));
  const checks = column((r) => (r.checkMode ? "t" : "f"));
  const audited = column((r) => (r.audit ? "t" : "f"));
  const actorIds = column((r) => r.audit?.actor.id ?? null);
  const actorKinds = column((r) => r.audit?.actor.kind ?? null);
  const requestIds = column((r) => r.audit?.requestId ?? null);
  // In a batch of several, a row another transaction holds is skipped rather
  // than waited for, so a long lock on one row (a register referencing it, an
  // operator's session) cannot hold up the others; its request goes alone.
  const shared = requests.length > 1;
  const rows = await db<BatchRow[]>`
    WITH input AS MATERIALIZED (
      SELECT * FROM unnest(${ids}::text[]::uuid[], ${globalIds}::text[]::int8[], ${kinds}::text[], ${targets}::text[],
                           ${from}::text[], ${reasons}::text[], ${checks}::text[]::bool[], ${audited}::text[]::bool[],
                           ${actorIds}::text[], ${actorKinds}::text[], ${requestIds}::text[])
        WITH ORDINALITY AS i (ref_id, ref_global_id, item_kind, to_state, from_states, item_reason, check_mode,
                              audit_on, actor_id, actor_kind, request_id, item)
    ), target AS MATERIALIZED (
      SELECT id AS target_id, global_id AS target_global_id, subject AS target_subject,
             subject_version AS target_version, state AS current_state, deleted_at IS NOT NULL AS deleted
      FROM schemas
      WHERE id = ANY(${ids}::text[]::uuid[]) OR global_id = ANY(${globalIds}::text[]::int8[])
      ORDER BY id
      FOR UPDATE ${shared ? db`SKIP LOCKED` : db``}
    ), matched AS MATERIALIZED (
      SELECT i.*, t.*,
             -- A row another transaction holds (skipped above) exists but was not locked.
             ${shared ? db`t.target_id IS NULL AND EXISTS (SELECT 1 FROM schemas AS x WHERE x.id = i.ref_id OR x.global_id = i.ref_global_id)` : db`false`} AS busy,
             -- A row reached by two requests of this batch: the first takes it, the others go again.
             CASE WHEN t.target_id IS NOT NULL THEN row_number() OVER (PARTITION BY t.target_id ORDER BY i.item) END AS nth
      FROM input AS i
      LEFT JOIN target AS t ON t.target_id = i.ref_id OR t.target_global_id = i.ref_global_id
    ), guard AS MATERIALIZED (
      SELECT m.*,
             -- The mode in force for the row's subject (its own, else the registry's, READONLY_OVERRIDE
             -- set globally winning); the registry's for a row that does not exist.
             CASE WHEN NOT m.check_mode THEN 'READWRITE' ELSE (
               SELECT CASE WHEN gc.mode = 'READONLY_OVERRIDE' THEN gc.mode
                           ELSE coalesce((SELECT sc.mode FROM subject_config AS sc WHERE sc.subject = m.target_subject),
                                         gc.mode, 'READWRITE') END
               FROM (VALUES (1)) AS g1 (n) LEFT JOIN global_config AS gc ON gc.singleton) END AS mode,
             -- Called after the lock, with a snapshot of its own (migration 009 says why).
             CASE WHEN m.item_kind = 'delete' AND m.nth = 1 AND NOT m.deleted
                  THEN registry_live_referrers(m.target_subject, m.target_version) END AS referrers
      FROM matched AS m
    ), changed AS (
      UPDATE schemas AS s SET
        state = CASE WHEN g.item_kind = 'state' THEN g.to_state ELSE s.state END,
        deleted_at = CASE WHEN g.item_kind = 'delete' THEN now() ELSE s.deleted_at END
      FROM guard AS g
      WHERE s.id = g.target_id AND g.nth = 1 AND NOT g.deleted
        AND g.mode NOT IN ('READONLY', 'READONLY_OVERRIDE')
        AND CASE WHEN g.item_kind = 'state' THEN g.current_state = ANY(string_to_array(g.from_states, ','))
                 ELSE cardinality(g.referrers) = 0 END
      RETURNING ${columns.record}, g.item AS changed_item, g.item_kind AS changed_kind,
                g.current_state AS from_state, g.to_state AS changed_to, g.item_reason AS changed_reason,
                g.audit_on, g.actor_id, g.actor_kind, g.request_id
    ), logged AS (
      INSERT INTO schema_state_history (schema_id, from_state, to_state, reason)
      SELECT id, from_state, changed_to, changed_reason FROM changed WHERE changed_kind = 'state'
      ORDER BY changed_item
    ), audited AS (
      INSERT INTO audit_log (actor_id, actor_kind, request_id, operation, subject, version, subject_version,
                             schema_id, content_id, hash_before, hash_after, details)
      SELECT c.actor_id, c.actor_kind, c.request_id,
             CASE WHEN c.changed_kind = 'state' THEN 'schema.state_change' ELSE 'schema.delete' END,
             c.subject, c.version, c.subject_version, c.id, c.content_id, c.content_hash,
             CASE WHEN c.changed_kind = 'state' THEN c.content_hash END,
             CASE WHEN c.changed_kind = 'state'
                  THEN jsonb_build_object('from', c.from_state, 'to', c.changed_to, 'reason', c.changed_reason)
                  ELSE '{}'::jsonb END
      FROM changed AS c WHERE c.audit_on
      -- In the order the requests came, as the entries of one at a time would be.
      ORDER BY c.changed_item
    )
    SELECT g.item, g.busy, g.target_subject, g.target_version, g.current_state, g.deleted, g.nth, g.mode, g.referrers, c.*
    FROM guard AS g LEFT JOIN changed AS c ON c.changed_item = g.item
    ORDER BY g.item`;
  if (rows.length !== requests.length) {
    throw new RegistryError(
      "internal",
      `a lifecycle batch of ${requests.length} answered ${rows.length} rows`,
    );
  }
  return rows.map((row, i) => outcomeOf(row, requests[i]!));
}

/**
 * One request as a statement of its own: what a batch of one runs, and what
 * runs inside a transaction. Cheaper than the batch statement for one row (a
 * simpler plan, no arrays); the same checks in the same order, and the same
 * writes. Answers the changed row; throws the request's refusal.
 */
export async function runLifecycleOne(
  db: Db,
  columns: Columns,
  request: LifecycleRequest,
): Promise<SchemaRecord> {
  const { ref, audit, checkMode } = request;
  if (request.kind === "state") {
    const { to, reason } = request;
    // The states `to` may be reached from: the row must be in one of them when it is locked.
    const from = SCHEMA_STATES.filter((state) => canTransition(state, to));
    // The row locked, the modes read, the update, its history row and its
    // audit entry, all or nothing. The checks decide inside the statement
    // (nothing is written when one refuses); the row that comes back says which one did.
    const [row] = await db<SingleRow[]>`
      WITH target AS MATERIALIZED (
        SELECT id, subject, state, deleted_at FROM schemas WHERE ${where(db, ref)} FOR UPDATE
      ), guard AS MATERIALIZED (
        SELECT t.id AS target_id, t.subject AS target_subject, t.state AS current_state,
               t.deleted_at IS NOT NULL AS deleted, ${modeInForce(db, checkMode)} AS mode
        FROM (VALUES (1)) AS one (n) LEFT JOIN target AS t ON true
      ), changed AS (
        UPDATE schemas AS s SET state = ${to}
        FROM guard AS g
        WHERE s.id = g.target_id AND NOT g.deleted AND g.current_state = ANY(${from}::text[])
          AND g.mode NOT IN ('READONLY', 'READONLY_OVERRIDE')
        RETURNING ${columns.record}, g.current_state AS from_state
      ), logged AS (
        INSERT INTO schema_state_history (schema_id, from_state, to_state, reason)
        SELECT id, from_state, ${to}, ${reason} FROM changed
      ) ${lifecycleAudit(db, audit, "schema.state_change", db`jsonb_build_object('from', c.from_state, 'to', ${to}::text, 'reason', ${reason}::text)`, false)}
      SELECT g.target_subject, g.current_state, g.deleted, g.mode, c.*
      FROM guard AS g LEFT JOIN changed AS c ON true`;
    return recordOrRefusal(checkedRow(row, ref), request, row!);
  }
  // As the state change, with the versions that reference the row found (it stays while live rows do).
  const [row] = await db<SingleRow[]>`
    WITH target AS MATERIALIZED (
      SELECT id, subject, subject_version, state, deleted_at FROM schemas WHERE ${where(db, ref)} FOR UPDATE
    ), guard AS MATERIALIZED (
      SELECT t.id AS target_id, t.subject AS target_subject, t.subject_version AS target_version,
             t.state AS current_state, t.deleted_at IS NOT NULL AS deleted, ${modeInForce(db, checkMode)} AS mode,
             -- Called after the lock, with a snapshot of its own (migration 009 says why).
             CASE WHEN t.deleted_at IS NULL THEN registry_live_referrers(t.subject, t.subject_version) END AS referrers
      FROM (VALUES (1)) AS one (n) LEFT JOIN target AS t ON true
    ), changed AS (
      UPDATE schemas AS s SET deleted_at = now()
      FROM guard AS g
      WHERE s.id = g.target_id AND NOT g.deleted AND cardinality(g.referrers) = 0
        AND g.mode NOT IN ('READONLY', 'READONLY_OVERRIDE')
      RETURNING ${columns.record}
    ) ${lifecycleAudit(db, audit, "schema.delete", db`'{}'::jsonb`, true)}
    SELECT g.target_subject, g.target_version, g.current_state, g.deleted, g.mode, g.referrers, c.*
    FROM guard AS g LEFT JOIN changed AS c ON true`;
  return recordOrRefusal(checkedRow(row, ref), request, row!);
}

/** What the one-request statements answer: the checks' inputs, and the row if it changed. */
type SingleRow = Partial<SchemaRow> & {
  target_subject: string | null;
  target_version?: number | null;
  current_state: SchemaState | null;
  deleted: boolean | null;
  mode: Mode;
  referrers?: string[] | null;
};

/** The refusals before the row's own rule (read-only mode, missing or deleted row); the changed row or null. */
function checkedRow(row: SingleRow | undefined, ref: SchemaRef): SchemaRow | null {
  if (!row) throw new RegistryError("internal", "a lifecycle write produced no outcome");
  if (isReadOnly(row.mode)) throw readOnlyError(row.target_subject, row.mode);
  if (row.target_subject === null || row.deleted) throw refNotFound(ref);
  return typeof row.id === "string" ? (row as SchemaRow) : null;
}

function recordOrRefusal(changed: SchemaRow | null, request: LifecycleRequest, row: SingleRow): SchemaRecord {
  if (changed !== null) return toSchemaRecord(changed);
  throw ruleRefusal(
    request,
    row.target_subject!,
    row.target_version ?? null,
    row.current_state!,
    row.referrers,
  );
}

/** The row's own rule refused: the version is referenced (a delete), or the move is not allowed (a state change). */
function ruleRefusal(
  request: LifecycleRequest,
  subject: string,
  version: number | null,
  current: SchemaState,
  referrers: string[] | null | undefined,
): RegistryError {
  if (request.kind === "delete") {
    return referencedError(
      subject,
      version!,
      (referrers ?? []).map((id) => Number(id)),
    );
  }
  const allowed = ALLOWED_TRANSITIONS[current];
  return new RegistryError(
    "invalid_transition",
    `a schema cannot move from ${current} to ${request.to}` +
      (allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ` (${current} is final)`),
    { from: current, to: request.to, allowed: [...allowed] },
  );
}

/**
 * The mode in force for the subject `t.subject` (its own, else the
 * registry's, READONLY_OVERRIDE set globally winning, as modeInForce in the
 * registry), or READWRITE when the caller asked for no mode check.
 */
export function modeInForce(db: Db, checkMode: boolean) {
  if (!checkMode) return db`'READWRITE'::text`;
  return db`(
    SELECT CASE WHEN gc.mode = 'READONLY_OVERRIDE' THEN gc.mode
                ELSE coalesce((SELECT sc.mode FROM subject_config AS sc WHERE sc.subject = t.subject),
                              gc.mode, 'READWRITE') END
    FROM (VALUES (1)) AS g1 (n) LEFT JOIN global_config AS gc ON gc.singleton)`;
}

function where(db: Db, ref: SchemaRef) {
  return "id" in ref ? db`id = ${ref.id}` : db`global_id = ${ref.globalId}`;
}

/**
 * A request's outcome from its row, the refusals in the order the API
 * answers them: a read-only mode, then a missing or soft-deleted row, then
 * the row's own rule.
 */
function outcomeOf(row: BatchRow, request: LifecycleRequest): LifecycleOutcome {
  if (row.busy) return "alone";
  if (isReadOnly(row.mode)) return readOnlyError(row.target_subject, row.mode);
  if (row.target_subject === null || row.deleted) return refNotFound(request.ref);
  if (row.nth !== null && row.nth !== "1") return "again";
  if (typeof row.id === "string") return toSchemaRecord(row as SchemaRow);
  return ruleRefusal(request, row.target_subject, row.target_version, row.current_state!, row.referrers);
}
