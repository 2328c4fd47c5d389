/**
 * The audit log's vocabulary: who asked for a write (the write context a
 * route hands to the registry's write methods, and they to the storage,
 * which records it in the write's own transaction) and what an entry of the
 * log says. Passed explicitly rather than read from a request-scoped global,
 * so every write method says in its signature that it is attributed.
 */
import type { Principal, PrincipalKind } from "./principal.ts";

/** `system`: a write no request asked for (a script, a test, the registry itself). */
export type ActorKind = PrincipalKind | "system";

export interface Actor {
  /** The key id, the JWT `sub`, `anonymous`, or `system`. */
  readonly id: string;
  readonly kind: ActorKind;
}

/** Who makes a write and under which request: what every audited write method takes. */
export interface WriteContext {
  readonly actor: Actor;
  /** The request's `X-Request-Id`; null outside a request. */
  readonly requestId: string | null;
}

/** The context of a write that no request made (scripts, tests): still recorded, as `system`. */
export const SYSTEM_WRITE: WriteContext = Object.freeze({
  actor: Object.freeze({ id: "system", kind: "system" as const }),
  requestId: null,
});

export function writeContextOf(principal: Principal, requestId: string | null): WriteContext {
  return { actor: { id: principal.id, kind: principal.kind }, requestId };
}

/**
 * What an entry records. Schema writes name the version they touched;
 * a subject delete records one entry per version it deleted.
 */
export const AUDIT_OPERATIONS = [
  "schema.register",
  "schema.state_change",
  "schema.delete",
  "schema.delete_permanent",
  "subject.delete",
  "subject.delete_permanent",
  "config.global",
  "config.subject",
  "config.subject_delete",
  "mode.global",
  "mode.subject",
  "key.create",
  "key.revoke",
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** One entry of the audit log as it is read back. */
export interface AuditEntry {
  /** Increasing with insertion; the list's cursor. */
  id: number;
  at: Date;
  actor: Actor;
  requestId: string | null;
  operation: AuditOperation;
  subject: string | null;
  /** The semantic version, for schema writes. */
  version: string | null;
  /** Confluent's integer version, for schema writes. */
  subjectVersion: number | null;
  schemaId: string | null;
  /** Confluent's schema id (content id), for schema writes. */
  contentId: number | null;
  /** The content hash before the write (a register: the subject's latest live version before it). */
  hashBefore: string | null;
  /** The content hash the write left (null after a delete). */
  hashAfter: string | null;
  /** What else the operation says: states and reason, settings before and after, a key's role. */
  details: Record<string, unknown>;
}

export interface AuditQuery {
  subject?: string;
  actor?: string;
  operation?: AuditOperation;
  /** Entries at or after this time. */
  since?: Date;
  /** Entries older than this cursor (an entry id); none: from the newest. */
  before?: number;
  limit: number;
}

export interface AuditPage {
  items: AuditEntry[];
  /** The cursor of the next (older) page; null on the last one. */
  nextCursor: number | null;
}
