/**
 * Applies, reverts and reports the SQL migrations of `migrations/`.
 *
 * Every applied migration is recorded in `schema_migrations` with the SHA-256
 * of its up file; a recorded migration whose file has changed since stops the
 * migrator, because the database no longer matches what the code believes.
 * All work happens on one reserved connection holding a session advisory lock,
 * so that instances starting at the same time apply each migration once: the
 * second waits for the first, then finds nothing left to do. Each migration
 * runs in its own transaction, together with its bookkeeping row.
 */
import type postgres from "postgres";
import { RegistryError } from "../../domain/errors.ts";
import { toRegistryError } from "./db-errors.ts";
import { loadMigrations, type Migration, migrationId } from "./migrations.ts";

/** Two-int advisory lock key (a key space apart from registry_register's bigint subject locks). */
const LOCK_CLASS = 0x5245_4749; // "REGI"
const LOCK_OBJECT = 1;

export interface MigrationStatus {
  version: number;
  name: string;
  applied: boolean;
  appliedAt: Date | null;
  /** Checksum of the file in this build; null for a migration this build does not know. */
  checksum: string | null;
  /** Checksum recorded when it was applied; null when pending. */
  appliedChecksum: string | null;
  /** Applied but unknown to this build, or applied from a file that has since changed. */
  problem: "unknown" | "checksum_mismatch" | null;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

type Session = postgres.ReservedSql;

export class Migrator {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly migrations: readonly Migration[],
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** Applies every pending migration in version order; returns the ones it applied. */
  async run(): Promise<Migration[]> {
    return this.locked(async (db) => {
      await this.ensureTable(db);
      const applied = await this.applied(db);
      this.verify(applied);
      const done = new Set(applied.map((row) => row.version));
      const pending = this.migrations.filter((m) => !done.has(m.version));
      for (const m of pending) {
        await this.inTransaction(db, m, "apply", async () => {
          await db.unsafe(m.up);
          await db`
            INSERT INTO schema_migrations (version, name, checksum)
            VALUES (${m.version}, ${m.name}, ${m.checksum})`;
        });
        this.log(`applied migration ${migrationId(m)}`);
      }
      return pending;
    });
  }

  /**
   * Reverts the last applied migration, or, given a target version, every
   * applied migration above it (`0` reverts them all). Returns the reverted ones, newest first.
   */
  async revert(target?: number): Promise<Migration[]> {
    return this.locked(async (db) => {
      await this.ensureTable(db);
      const applied = await this.applied(db);
      this.verify(applied);
      const newestFirst = [...applied].sort((a, b) => b.version - a.version);
      const chosen =
        target === undefined ? newestFirst.slice(0, 1) : newestFirst.filter((row) => row.version > target);
      const reverted: Migration[] = [];
      for (const row of chosen) {
        const m = this.migrations.find((candidate) => candidate.version === row.version)!;
        await this.inTransaction(db, m, "revert", async () => {
          await db.unsafe(m.down);
          await db`DELETE FROM schema_migrations WHERE version = ${m.version}`;
        });
        this.log(`reverted migration ${migrationId(m)}`);
        reverted.push(m);
      }
      return reverted;
    });
  }

  /** Every known or recorded migration with its state; changes nothing. */
  async info(): Promise<MigrationStatus[]> {
    const [{ exists }] = (await this.sql`
      SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`) as unknown as [{ exists: boolean }];
    const applied = exists ? await this.applied(this.sql) : [];
    const byVersion = new Map(applied.map((row) => [row.version, row]));
    const statuses: MigrationStatus[] = this.migrations.map((m) => {
      const row = byVersion.get(m.version);
      return {
        version: m.version,
        name: m.name,
        applied: row !== undefined,
        appliedAt: row?.applied_at ?? null,
        checksum: m.checksum,
        appliedChecksum: row?.checksum ?? null,
        problem: row && row.checksum !== m.checksum ? "checksum_mismatch" : null,
      };
    });
    for (const row of applied) {
      if (this.migrations.some((m) => m.version === row.version)) continue;
      statuses.push({
        version: row.version,
        name: row.name,
        applied: true,
        appliedAt: row.applied_at,
        checksum: null,
        appliedChecksum: row.checksum,
        problem: "unknown",
      });
    }
    return statuses.sort((a, b) => a.version - b.version);
  }

  private async locked<T>(work: (db: Session) => Promise<T>): Promise<T> {
    const db = await this.sql.reserve();
    try {
      // Waiting for another instance's migrations, and building indexes on a
      // large table, may take longer than the pool's statement timeout.
      await db`SET statement_timeout = 0`;
      await db`SELECT pg_advisory_lock(${LOCK_CLASS}::integer, ${LOCK_OBJECT}::integer)`;
      try {
        return await work(db);
      } finally {
        await db`SELECT pg_advisory_unlock(${LOCK_CLASS}::integer, ${LOCK_OBJECT}::integer)`.catch(() => {
          // A broken connection drops its session lock by itself.
        });
        await db`RESET statement_timeout`.catch(() => {});
      }
    } finally {
      db.release();
    }
  }

  private async inTransaction(
    db: Session,
    m: Migration,
    action: "apply" | "revert",
    work: () => Promise<void>,
  ): Promise<void> {
    await db`BEGIN`;
    try {
      await work();
      await db`COMMIT`;
    } catch (error) {
      await db`ROLLBACK`.catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new RegistryError(
        "internal",
        `could not ${action} migration ${migrationId(m)}: ${reason}`,
        { migration: migrationId(m) },
        { cause: error },
      );
    }
  }

  private async ensureTable(db: Session): Promise<void> {
    await db`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
  }

  private async applied(db: postgres.Sql): Promise<AppliedRow[]> {
    const rows = await db<AppliedRow[]>`
      SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`;
    return [...rows];
  }

  /** Refuses to touch a database whose recorded history this build does not match. */
  private verify(applied: AppliedRow[]): void {
    for (const row of applied) {
      const id = migrationId(row);
      const known = this.migrations.find((m) => m.version === row.version);
      if (!known) {
        throw new RegistryError(
          "internal",
          `the database has migration ${id} applied, which this build does not contain; ` +
            "run a build that has it, or revert it with that build",
          { migration: id },
        );
      }
      if (known.checksum !== row.checksum) {
        throw new RegistryError(
          "internal",
          `migration ${id} was changed after it was applied (recorded checksum ${row.checksum.slice(0, 12)}…, ` +
            `file now ${known.checksum.slice(0, 12)}…); restore the file and put the change in a new migration`,
          { migration: id, recordedChecksum: row.checksum, fileChecksum: known.checksum },
        );
      }
    }
  }
}

/** A migrator over the embedded migrations of this build. */
export async function createMigrator(sql: postgres.Sql, log?: (message: string) => void): Promise<Migrator> {
  return new Migrator(sql, await loadMigrations(), log);
}

/**
 * Applies every pending migration; returns the ones it applied. The step
 * between opening the pool and building the storage on it. A database that
 * does not answer is `unavailable`.
 */
export async function migrate(sql: postgres.Sql, log?: (message: string) => void): Promise<Migration[]> {
  try {
    return await (await createMigrator(sql, log)).run();
  } catch (error) {
    throw toRegistryError(error);
  }
}
