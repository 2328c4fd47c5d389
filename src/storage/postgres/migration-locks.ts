/**
 * Which tables a migration keeps locked for a time that grows with their
 * rows, so that `scripts/migrate.ts info` can warn an operator before a
 * deploy applies it to a large database.
 *
 * Two sources, printed side by side:
 * - lock notes its author wrote in the up file's header, one a line:
 *     -- locks: schemas (CREATE INDEX without CONCURRENTLY: writes wait while each index builds)
 * - what a reading of its statements finds (`detectLongLocks`): an index
 *   built without CONCURRENTLY, a constraint validated, a column made NOT
 *   NULL or retyped, a column added with a volatile default, an UPDATE or
 *   DELETE of the table, a non-concurrent view refresh, and a trigger
 *   created on a table the same migration then reads through (a backfill:
 *   writes wait for all of it). Tables the migration creates itself are
 *   empty and never count. Function bodies are left out: their statements
 *   run later, row by row.
 *
 * Lock notes are documentation, not part of the migration: the checksum a
 * database records (migrations.ts) is taken without them, so a note added to
 * a migration that is already applied everywhere changes nothing there.
 */

export interface LockNote {
  tables: string[];
  reason: string;
}

const NOTE = /^-- locks: *([^(\n]+?) *\((.*)\) *$/gm;
const NOTE_LINE = /^-- locks:.*(?:\r?\n|$)/gm;

/** The `-- locks: <table>[, <table>] (<reason>)` lines of an up file. */
export function lockNotes(up: string): LockNote[] {
  return [...up.matchAll(NOTE)].map((match) => ({
    tables: match[1]!.split(",").map((table) => table.trim()),
    reason: match[2]!.trim(),
  }));
}

/** The up file without its lock notes: what its checksum is taken over. */
export function withoutLockNotes(up: string): string {
  return up.replace(NOTE_LINE, "");
}

/** Functions whose value changes per row: a column added with one as default rewrites the table. */
const VOLATILE_DEFAULT =
  /\bDEFAULT\s+(?:now|clock_timestamp|random|gen_random_uuid|uuid_generate_v4|nextval|timeofday)\s*\(/i;

/**
 * Tables (created before this migration) that its statements hold locked
 * for a time that grows with their rows, each with what does it.
 */
export function detectLongLocks(up: string): Map<string, string[]> {
  const statements = splitStatements(up);
  const created = new Set<string>();
  for (const statement of statements) {
    const table =
      /^CREATE\s+(?:UNLOGGED\s+)?(?:TABLE|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."]+)/i.exec(
        statement,
      );
    if (table) created.add(name(table[1]!));
  }
  const found = new Map<string, string[]>();
  const add = (table: string, what: string) => {
    const key = name(table);
    if (created.has(key)) return;
    const list = found.get(key) ?? [];
    if (!list.includes(what)) list.push(what);
    found.set(key, list);
  };
  const triggers: { table: string; at: number }[] = [];
  for (const [at, statement] of statements.entries()) {
    let match =
      /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(?:IF\s+NOT\s+EXISTS\s+)?[\w."]*\s*ON\s+(?:ONLY\s+)?([\w."]+)/i.exec(
        statement,
      );
    if (match) add(match[1]!, "CREATE INDEX without CONCURRENTLY");
    match = /^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s+([\s\S]*)$/i.exec(statement);
    if (match) {
      const [, table, actions] = match;
      if (/\bADD\s+CONSTRAINT\b/i.test(actions!) && !/\bNOT\s+VALID\b/i.test(actions!)) {
        add(table!, "ADD CONSTRAINT validated against every row");
      }
      if (/\bSET\s+NOT\s+NULL\b/i.test(actions!)) add(table!, "SET NOT NULL scans every row");
      if (/\bALTER\s+(?:COLUMN\s+)?[\w"]+\s+(?:SET\s+DATA\s+)?TYPE\b/i.test(actions!)) {
        add(table!, "ALTER COLUMN TYPE rewrites the table");
      }
      if (/\bADD\s+(?:COLUMN\s+)?[\s\S]*?/i.test(actions!) && VOLATILE_DEFAULT.test(actions!)) {
        add(table!, "ADD COLUMN with a volatile default rewrites the table");
      }
    }
    match = /^UPDATE\s+(?:ONLY\s+)?([\w."]+)/i.exec(statement);
    if (match) add(match[1]!, "UPDATE of its rows");
    match = /^DELETE\s+FROM\s+(?:ONLY\s+)?([\w."]+)/i.exec(statement);
    if (match) add(match[1]!, "DELETE of its rows");
    match = /^REFRESH\s+MATERIALIZED\s+VIEW\s+(?!CONCURRENTLY)([\w."]+)/i.exec(statement);
    if (match) add(match[1]!, "REFRESH MATERIALIZED VIEW without CONCURRENTLY");
    match = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+[\s\S]*?\bON\s+([\w."]+)/i.exec(
      statement,
    );
    if (match) triggers.push({ table: name(match[1]!), at });
  }
  // A trigger's SHARE ROW EXCLUSIVE lock lasts until commit: a backfill reading the table after it keeps writes waiting.
  for (const { table, at } of triggers) {
    const backfill = statements
      .slice(at + 1)
      .some(
        (statement) =>
          /^(?:INSERT|UPDATE|WITH)\b/i.test(statement) &&
          new RegExp(`\\bFROM\\s+${table}\\b`, "i").test(statement),
      );
    if (backfill) add(table, "CREATE TRIGGER, then a backfill that reads it: writes wait until commit");
  }
  return found;
}

/**
 * What `migrate.ts info` prints for a pending migration: each lock note, then
 * each table a reading of its statements finds held long that no note names.
 */
export function lockReport(up: string): string[] {
  const notes = lockNotes(up);
  const noted = new Set(notes.flatMap((note) => note.tables));
  const lines = notes.map((note) => `locks ${note.tables.join(", ")}: ${note.reason}`);
  for (const [table, causes] of detectLongLocks(up)) {
    if (!noted.has(table)) lines.push(`locks ${table} (not noted in the file): ${causes.join("; ")}`);
  }
  return lines;
}

function name(identifier: string): string {
  const bare = identifier.replace(/"/g, "");
  return bare.startsWith("public.") ? bare.slice("public.".length) : bare;
}

/**
 * The statements of a SQL file, comments and dollar-quoted bodies removed
 * (a function's statements run when it is called, not by the migration).
 */
export function splitStatements(sql: string): string[] {
  const text = sql
    .replace(/\$(\w*)\$[\s\S]*?\$\1\$/g, "''")
    .replace(/--[^\n]*/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/'(?:[^']|'')*'/g, "''");
  return text
    .split(";")
    .map((statement) => statement.replace(/\s+/g, " ").trim())
    .filter((statement) => statement !== "");
}
