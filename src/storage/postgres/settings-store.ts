/**
 * SettingsStore on PostgreSQL: the `global_config` row and the `subject_config`
 * rows of migration 003. A put merges: a field the caller leaves undefined is
 * sent as NULL and keeps the stored value (`coalesce(EXCLUDED.col, t.col)`),
 * so a put is one upsert whatever it sets. The registry validates settings
 * before they get here; the tables' CHECKs are the last line, and what they
 * refuse is `invalid_request`, not a conflict. A write given a WriteContext
 * runs in a transaction with its audit entry (the row's settings and mode
 * before and after); a write that changed nothing records none.
 */

import type { AuditOperation, WriteContext } from "../../domain/audit.ts";
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type EvolutionSettings,
  SEMVER_POLICIES,
  type SemverPolicy,
} from "../../domain/compatibility/index.ts";
import { RegistryError } from "../../domain/errors.ts";
import { MODES, type Mode } from "../../domain/modes.ts";
import type { SettingsStore } from "../settings-store.ts";
import { insertAudit } from "./audit-store.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import { atomic, type Db } from "./pool.ts";

interface SettingsRow {
  compatibility: CompatibilityLevel | null;
  semver_policy: SemverPolicy | null;
}

const CHECK_VIOLATION = "23514";

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly db: DbHandles) {}

  async getGlobal(): Promise<EvolutionSettings> {
    const row = await this.read(async (db) => {
      const [found] = await db<SettingsRow[]>`
        SELECT compatibility, semver_policy FROM global_config WHERE singleton`;
      return found ?? null;
    });
    return row ? toSettings(row) : {};
  }

  async putGlobal(settings: EvolutionSettings, audit?: WriteContext): Promise<EvolutionSettings> {
    return this.audited(audit, "config.global", null, async (db) => {
      const [row] = await db<SettingsRow[]>`
        INSERT INTO global_config AS t (singleton, compatibility, semver_policy)
        VALUES (true, ${settings.compatibility ?? null}, ${settings.semverPolicy ?? null})
        ON CONFLICT (singleton) DO UPDATE SET
          compatibility = coalesce(EXCLUDED.compatibility, t.compatibility),
          semver_policy = coalesce(EXCLUDED.semver_policy, t.semver_policy),
          updated_at = now()
        RETURNING compatibility, semver_policy`;
      return toSettings(row!);
    });
  }

  async getSubject(subject: string): Promise<EvolutionSettings | null> {
    const row = await this.read(async (db) => {
      const [found] = await db<SettingsRow[]>`
        SELECT compatibility, semver_policy FROM subject_config
        WHERE subject = ${subject} AND (compatibility IS NOT NULL OR semver_policy IS NOT NULL)`;
      return found ?? null;
    });
    return row ? toSettings(row) : null;
  }

  async putSubject(
    subject: string,
    settings: EvolutionSettings,
    audit?: WriteContext,
  ): Promise<EvolutionSettings> {
    return this.audited(audit, "config.subject", subject, async (db) => {
      const [row] = await db<SettingsRow[]>`
        INSERT INTO subject_config AS t (subject, compatibility, semver_policy)
        VALUES (${subject}, ${settings.compatibility ?? null}, ${settings.semverPolicy ?? null})
        ON CONFLICT (subject) DO UPDATE SET
          compatibility = coalesce(EXCLUDED.compatibility, t.compatibility),
          semver_policy = coalesce(EXCLUDED.semver_policy, t.semver_policy),
          updated_at = now()
        RETURNING compatibility, semver_policy`;
      return toSettings(row!);
    });
  }

  async deleteSubject(subject: string, audit?: WriteContext): Promise<EvolutionSettings | null> {
    return this.audited(audit, "config.subject_delete", subject, async (db) => {
      // The mode is not an evolution setting: a row holding one stays, with the settings cleared.
      const [row] = await db<SettingsRow[]>`
        WITH old AS (
          SELECT compatibility, semver_policy FROM subject_config WHERE subject = ${subject} FOR UPDATE
        ), cleared AS (
          UPDATE subject_config SET compatibility = NULL, semver_policy = NULL, updated_at = now()
          WHERE subject = ${subject} AND mode IS NOT NULL
            AND (compatibility IS NOT NULL OR semver_policy IS NOT NULL)
        ), removed AS (
          DELETE FROM subject_config WHERE subject = ${subject} AND mode IS NULL
        )
        SELECT compatibility, semver_policy FROM old
        WHERE compatibility IS NOT NULL OR semver_policy IS NOT NULL`;
      return row ? toSettings(row) : null;
    });
  }

  async clearGlobalCompatibility(audit?: WriteContext): Promise<CompatibilityLevel | null> {
    return this.audited(audit, "config.global", null, async (db) => {
      const [row] = await db<{ compatibility: CompatibilityLevel | null }[]>`
        WITH old AS (SELECT compatibility FROM global_config WHERE singleton FOR UPDATE),
        cleared AS (
          UPDATE global_config SET compatibility = NULL, updated_at = now()
          WHERE singleton AND compatibility IS NOT NULL
        )
        SELECT compatibility FROM old`;
      return row?.compatibility ?? null;
    });
  }

  async clearSubjectCompatibility(subject: string, audit?: WriteContext): Promise<CompatibilityLevel | null> {
    return this.audited(audit, "config.subject", subject, async (db) => {
      const [row] = await db<{ compatibility: CompatibilityLevel | null }[]>`
        WITH old AS (SELECT compatibility FROM subject_config WHERE subject = ${subject} FOR UPDATE),
        cleared AS (
          UPDATE subject_config SET compatibility = NULL, updated_at = now()
          WHERE subject = ${subject} AND compatibility IS NOT NULL
        )
        SELECT compatibility FROM old`;
      await db`
        DELETE FROM subject_config
        WHERE subject = ${subject} AND compatibility IS NULL AND semver_policy IS NULL AND mode IS NULL`;
      return row?.compatibility ?? null;
    });
  }

  async getModes(subject: string | null): Promise<{ subject: Mode | null; global: Mode | null }> {
    const row = await this.read(async (db) => {
      const [found] = await db<{ own: Mode | null; global: Mode | null }[]>`
        SELECT (SELECT mode FROM subject_config WHERE subject = ${subject ?? ""}) AS own,
               (SELECT mode FROM global_config WHERE singleton) AS global`;
      return found ?? null;
    });
    return { subject: row?.own ?? null, global: row?.global ?? null };
  }

  async getGlobalMode(): Promise<Mode | null> {
    return this.read(async (db) => {
      const [found] = await db<{ mode: Mode | null }[]>`SELECT mode FROM global_config WHERE singleton`;
      return found?.mode ?? null;
    });
  }

  async putGlobalMode(mode: Mode | null, audit?: WriteContext): Promise<Mode | null> {
    return this.audited(audit, "mode.global", null, async (db) => {
      const [row] = await db<{ mode: Mode | null }[]>`
        WITH old AS (SELECT mode FROM global_config WHERE singleton FOR UPDATE),
        put AS (
          INSERT INTO global_config AS t (singleton, mode) VALUES (true, ${mode})
          ON CONFLICT (singleton) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()
          WHERE t.mode IS DISTINCT FROM EXCLUDED.mode
        )
        SELECT mode FROM old`;
      return row?.mode ?? null;
    });
  }

  async getSubjectMode(subject: string): Promise<Mode | null> {
    return this.read(async (db) => {
      const [found] = await db<{ mode: Mode | null }[]>`
        SELECT mode FROM subject_config WHERE subject = ${subject}`;
      return found?.mode ?? null;
    });
  }

  async putSubjectMode(subject: string, mode: Mode | null, audit?: WriteContext): Promise<Mode | null> {
    return this.audited(audit, "mode.subject", subject, async (db) => {
      const [row] = await db<{ mode: Mode | null }[]>`
        WITH old AS (SELECT mode FROM subject_config WHERE subject = ${subject} FOR UPDATE),
        put AS (
          INSERT INTO subject_config AS t (subject, mode) VALUES (${subject}, ${mode})
          ON CONFLICT (subject) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()
          WHERE t.mode IS DISTINCT FROM EXCLUDED.mode
        )
        SELECT mode FROM old`;
      if (mode === null) {
        await db`
          DELETE FROM subject_config
          WHERE subject = ${subject} AND compatibility IS NULL AND semver_policy IS NULL AND mode IS NULL`;
      }
      return row?.mode ?? null;
    });
  }

  /** A miss on a replica may be a put it has not replayed yet: the primary is asked again. */
  private async read<T>(operation: (db: Db) => Promise<T | null>): Promise<T | null> {
    try {
      return await this.db.reader.run(operation, (result) => result === null);
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  /**
   * `work` as a write; given `audit`, in one transaction with the audit entry
   * of what it changed (the global row, or the subject's, before and after).
   */
  private async audited<T>(
    audit: WriteContext | undefined,
    operation: AuditOperation,
    subject: string | null,
    work: (db: Db) => Promise<T>,
  ): Promise<T> {
    if (!audit) return this.write(work);
    return this.write((db) =>
      atomic(db, async (tx) => {
        const before = await settingsRow(tx, subject, true);
        const result = await work(tx);
        const after = await settingsRow(tx, subject, false);
        if (JSON.stringify(before) !== JSON.stringify(after)) {
          await insertAudit(tx, audit, [{ operation, subject, details: { before, after } }]);
        }
        return result;
      }),
    );
  }

  private async write<T>(operation: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await operation(this.db.primary);
    } catch (error) {
      throw toSettingsError(error);
    } finally {
      this.db.reader.wrote();
    }
  }
}

interface StoredSettings {
  compatibility: CompatibilityLevel | null;
  semver_policy: SemverPolicy | null;
  mode: Mode | null;
}

/** The global row, or the subject's, as an audit entry shows it (null: no row, everything unset). */
async function settingsRow(db: Db, subject: string | null, lock: boolean): Promise<StoredSettings | null> {
  const forUpdate = lock ? db`FOR UPDATE` : db``;
  const [row] =
    subject === null
      ? await db<StoredSettings[]>`
          SELECT compatibility, semver_policy, mode FROM global_config WHERE singleton ${forUpdate}`
      : await db<StoredSettings[]>`
          SELECT compatibility, semver_policy, mode FROM subject_config WHERE subject = ${subject} ${forUpdate}`;
  if (!row || (row.compatibility === null && row.semver_policy === null && row.mode === null)) return null;
  return { compatibility: row.compatibility, semver_policy: row.semver_policy, mode: row.mode };
}

/** NULL columns are settings left unset: absent from the answer, not `undefined` values in it. */
function toSettings(row: SettingsRow): EvolutionSettings {
  return {
    ...(row.compatibility === null ? {} : { compatibility: row.compatibility }),
    ...(row.semver_policy === null ? {} : { semverPolicy: row.semver_policy }),
  };
}

function toSettingsError(error: unknown): RegistryError {
  if ((error as { code?: unknown } | null)?.code !== CHECK_VIOLATION) return toRegistryError(error);
  // The constraint's name says which column (`subject_config_semver_policy_check`).
  const constraint = String((error as { constraint_name?: unknown }).constraint_name ?? "");
  const [field, message] = constraint.includes("mode")
    ? ["mode", `mode must be one of ${MODES.join(", ")}`]
    : constraint.includes("compatibility")
      ? ["compatibility", `compatibility must be one of ${COMPATIBILITY_LEVELS.join(", ")}`]
      : constraint.includes("semver_policy")
        ? ["semverPolicy", `semverPolicy must be one of ${SEMVER_POLICIES.join(", ")}`]
        : ["subject", "a subject name is 1 to 255 characters long"];
  return RegistryError.invalidRequest(message, { field });
}
