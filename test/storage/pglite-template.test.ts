/**
 * Fresh embedded databases start from a template (src/storage/embedded/
 * data-dir-template.ts): the first fresh start that is migrated keeps itself,
 * every later fresh one (in memory or in a new directory) is unpacked from it,
 * migrated already, and a directory PostgreSQL already lives in is opened as
 * it is.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../src/storage/embedded/pglite-server.ts";
import { MIGRATION_SOURCES } from "../../src/storage/postgres/migrations.ts";
import { migrate } from "../../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../../src/storage/postgres/pool.ts";

const directories: string[] = [];
afterAll(async () => {
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

async function appliedVersions(database: EmbeddedDatabase): Promise<number[]> {
  const sql = createPool(database.url, { maxConnections: 1 });
  try {
    const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
    return rows.map((row) => row.version);
  } finally {
    await closePool(sql);
  }
}

describe("embedded database templates", () => {
  test("a fresh database comes from the template, migrated, and is one of its own", async () => {
    // Make sure a template of this build exists, as the first migrated fresh start leaves it.
    const first = await startEmbeddedPostgres(null);
    try {
      if (!first.fromTemplate) {
        expect(first.saveAsTemplate).toBeDefined();
        const sql = createPool(first.url, { maxConnections: 1 });
        await migrate(sql).finally(() => closePool(sql));
        await first.saveAsTemplate?.();
      }
    } finally {
      await first.stop();
    }

    const dir = await mkdtemp(join(tmpdir(), "registry-template-"));
    directories.push(dir);
    const fromTemplate = await startEmbeddedPostgres(join(dir, "data"));
    try {
      expect(fromTemplate.fromTemplate).toBe(true);
      expect(fromTemplate.saveAsTemplate).toBeUndefined();
      expect(await appliedVersions(fromTemplate)).toEqual(MIGRATION_SOURCES.map((m) => m.version));
      const sql = createPool(fromTemplate.url, { maxConnections: 1 });
      await sql`CREATE TABLE template_probe (n int)`.finally(() => closePool(sql));
    } finally {
      await fromTemplate.stop();
    }

    // Reopened: its own data directory, not the template again.
    const reopened = await startEmbeddedPostgres(join(dir, "data"));
    try {
      expect(reopened.fromTemplate).toBe(false);
      expect(reopened.saveAsTemplate).toBeUndefined();
      const sql = createPool(reopened.url, { maxConnections: 1 });
      const [row] = await sql`SELECT to_regclass('template_probe') IS NOT NULL AS present`.finally(() =>
        closePool(sql),
      );
      expect(row?.present).toBe(true);
    } finally {
      await reopened.stop();
    }

    // A second fresh database does not see what the first one wrote.
    const other = await startEmbeddedPostgres(null);
    try {
      expect(other.fromTemplate).toBe(true);
      const sql = createPool(other.url, { maxConnections: 1 });
      const [row] = await sql`SELECT to_regclass('template_probe') IS NULL AS absent`.finally(() =>
        closePool(sql),
      );
      expect(row?.absent).toBe(true);
    } finally {
      await other.stop();
    }
  }, 120_000);
});
