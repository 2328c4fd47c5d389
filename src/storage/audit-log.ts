/**
 * AuditLog: the record of who changed what. Entries are written by the
 * storage's own write methods, inside the transaction of the write they
 * describe (each takes an optional `WriteContext`, and records nothing
 * without one), so this interface only reads them back, adds entries for
 * writes that live outside the schema tables (API keys), and prunes them by
 * age for the retention setting.
 */
import type { AuditOperation, AuditPage, AuditQuery, WriteContext } from "../domain/audit.ts";

/** An entry to add, beside the context that says who and under which request. */
export interface NewAuditEntry {
  operation: AuditOperation;
  subject?: string | null;
  version?: string | null;
  subjectVersion?: number | null;
  schemaId?: string | null;
  contentId?: number | null;
  hashBefore?: string | null;
  hashAfter?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  /** Newest first, filtered, one page at a time (keyset on the entry id). */
  list(query: AuditQuery): Promise<AuditPage>;
  /** Adds an entry on its own (a write the schema tables do not hold, such as an API key's). */
  record(context: WriteContext, entry: NewAuditEntry): Promise<void>;
  /** Deletes the entries older than `before`; answers how many went. */
  prune(before: Date): Promise<number>;
}
