/**
 * Migrations on the machine's PostgreSQL: apply, revert and apply again;
 * every down puts the catalog back exactly as its up found it; a migration
 * applies over rows written before it; refuse a database whose recorded
 * history this build does not match; apply each migration once when
 * instances start together; leave nothing of a migration that fails; and the
 * command-line script doing the same.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import postgres from "postgres";
import { sha256Hex } from "../../src/domain/canonical.ts";
import { isRegistryError } from "../../src/domain/errors.ts";
import {
  loadMigrations,
  MIGRATION_SOURCES,
  type Migration,
  migrationId,
} from "../../src/storage/postgres/migrations.ts";
import { Migrator } from "../../src/storage/postgres/migrator.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { runScript } from "../support/run-script.ts";
import { openStorage } from "./open-storage.ts";

const available = await postgresAvailable();
const migrations = await loadMigrations();
/** Every migration's version, in order: the expectations below follow the list rather than repeat it. */
const versions = migrations.map((m) => m.version);

const opened: { close(): Promise<void> }[] = [];
// Hooks do not get bunfig's test timeout: a dozen databases are dropped here, slower on a loaded machine.
afterAll(async () => {
  for (const resource of opened.reverse()) await resource.close();
}, 30_000);

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  opened.push({ close: () => db.drop() });
  return db;
}

function client(url: string): postgres.Sql {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  opened.push({ close: () => sql.end({ timeout: 1 }) });
  return sql;
}

async function tables(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm') ORDER BY 1`;
  return rows.map((row) => row.name);
}

/**
 * What the migrations define, as text: relations, columns, constraints (with
 * whether they are validated), indexes, functions with their bodies, triggers
 * and views. pg_trgm's own functions are left out: 001 installs the
 * extension and, by design, its down leaves it.
 */
async function catalog(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ entry: string }[]>`
    SELECT 'relation ' || c.relname || ' ' || c.relkind::text AS entry
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('column %s.%s #%s %s %s %s', table_name, column_name, ordinal_position, data_type,
                  is_nullable, coalesce(column_default, ''))
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT format('constraint %s %s %s validated=%s', conrelid::regclass, conname, pg_get_constraintdef(oid),
                  convalidated)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(p.oid)
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'view ' || matviewname || ' ' || definition FROM pg_matviews WHERE schemaname = 'public'
    ORDER BY 1`;
  return rows.map((row) => row.entry);
}

async function recorded(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
  return rows.map((row) => row.version);
}

test("every migration in migrations/ is embedded, with both its up and down file", () => {
  const files = readdirSync(new URL("../../migrations/", import.meta.url)).filter((f) => f.endsWith(".sql"));
  const expected = MIGRATION_SOURCES.flatMap((m) => [
    `${migrationId(m)}.down.sql`,
    `${migrationId(m)}.up.sql`,
  ]);
  expect(files.sort()).toEqual(expected.sort());
  expect(migrations.map((m) => m.version)).toEqual(MIGRATION_SOURCES.map((_, i) => i + 1));
});

describe.skipIf(!available)("Migrator on PostgreSQL", () => {
  test("runs, reverts one, reverts all, runs again, and the storage works on the result", async () => {
    const db = await database();
    const sql = client(db.url);
    const migrator = new Migrator(sql, migrations);

    expect((await migrator.run()).map((m) => m.version)).toEqual(versions);
    expect(await recorded(sql)).toEqual(versions);
    expect(await tables(sql)).toEqual(
      expect.arrayContaining([
        "global_config",
        "popular_schemas",
        "schema_access_log",
        "schemas",
        "subject_config",
      ]),
    );
    expect(await migrator.run()).toEqual([]);
    const [first] = await sql<
      { checksum: string }[]
    >`SELECT checksum FROM schema_migrations WHERE version = 1`;
    expect(first?.checksum).toBe(await sha256Hex(MIGRATION_SOURCES[0]!.up));

    expect((await migrator.revert(2)).map((m) => m.version)).toEqual(
      versions.filter((v) => v >= 3).reverse(),
    );
    expect(await tables(sql)).not.toContain("global_config");
    expect((await migrator.revert(1)).map((m) => m.version)).toEqual([2]);
    expect(await tables(sql)).toEqual(["schema_migrations", "schema_state_history", "schemas"]);
    expect((await migrator.info()).map((s) => [s.version, s.applied])).toEqual(
      versions.map((v) => [v, v === 1]),
    );

    expect((await migrator.revert(0)).map((m) => m.version)).toEqual([1]);
    expect(await tables(sql)).toEqual(["schema_migrations"]);
    expect(await migrator.revert(0)).toEqual([]);

    expect((await migrator.run()).map((m) => m.version)).toEqual(versions);
    const storage = await openStorage(db.url, { pool: { maxConnections: 2 } });
    try {
      const { schema } = await storage.schemas.register({
        subject: "after.revert",
        version: "1.0.0",
        schemaType: "json",
        state: "active",
        content: { ok: true },
        contentText: '{"ok":true}',
        contentHash: `sha256:${"b".repeat(64)}`,
        contentSize: 11,
        contentLocation: "inline",
        contentKey: null,
        metadata: { tags: ["x"] },
      });
      expect((await storage.schemas.getLatest("after.revert"))?.id).toBe(schema.id);
      expect(
        (
          await storage.search.search({
            q: "revert",
            limit: 5,
            offset: 0,
            sort: { field: "relevance", descending: true },
          })
        ).total,
      ).toBe(1);
    } finally {
      await storage.close();
    }
  });

  test("each migration's down puts the catalog back exactly as its up found it", async () => {
    const db = await database();
    const sql = client(db.url);
    // The bookkeeping table first: it is there before any up and after any down.
    await new Migrator(sql, []).run();
    for (const [i, m] of migrations.entries()) {
      const upTo = new Migrator(sql, migrations.slice(0, i + 1));
      const before = await catalog(sql);
      expect((await upTo.run()).map((applied) => applied.version)).toEqual([m.version]);
      const applied = await catalog(sql);
      expect(applied).not.toEqual(before);
      expect((await upTo.revert()).map((reverted) => reverted.version)).toEqual([m.version]);
      expect({ migration: migrationId(m), catalog: await catalog(sql) }).toEqual({
        migration: migrationId(m),
        catalog: before,
      });
      // Up again, from a down: the same result as the first time, but for the
      // position of a column added again (a dropped column keeps its slot).
      await upTo.run();
      const positionless = (entries: string[]) => entries.map((entry) => entry.replace(/ #\d+ /, " "));
      expect(positionless(await catalog(sql))).toEqual(positionless(applied));
    }
  });

  test("003 applies over rows written before it, keeps the previous register working, and its down keeps the rows", async () => {
    const db = await database();
    const sql = client(db.url);
    const migrator = new Migrator(sql, migrations);
    await new Migrator(sql, migrations.slice(0, 2)).run();
    const previousRegister = async (subject: string, content: postgres.JSONValue, hash: string) => [
      ...(await sql<{ outcome: string; version: string }[]>`
        SELECT outcome, version FROM registry_register(${subject}, NULL, NULL, NULL, 'json', 'active',
          ${sql.json(content)}, ${`sha256:${hash.repeat(64)}`}, 10, 'inline', NULL, '{}'::jsonb)`),
    ];
    expect(await previousRegister("before.003", { b: 1, a: 2 }, "1")).toEqual([
      { outcome: "created", version: "1.0.0" },
    ]);

    expect((await migrator.run()).map((m) => m.version)).toEqual(versions.filter((v) => v >= 3));
    const storage = await openStorage(db.url, { pool: { maxConnections: 2 } });
    try {
      const old = await storage.schemas.getLatest("before.003");
      expect(JSON.stringify(old?.content)).toBe('{"a":2,"b":1}');
      const context = await storage.schemas.evolutionContext("before.003", `sha256:${"2".repeat(64)}`, {
        compatibility: "BACKWARD",
        semverPolicy: "advise",
      });
      expect(context).toMatchObject({ head: old?.globalId, highestVersion: "1.0.0", live: [old] });
      const { schema } = await storage.schemas.register(
        {
          subject: "before.003",
          version: "1.1.0",
          schemaType: "json",
          state: "active",
          content: { d: 1, c: 2 },
          contentText: '{"d":1,"c":2}',
          contentHash: `sha256:${"2".repeat(64)}`,
          contentSize: 13,
          contentLocation: "inline",
          contentKey: null,
          metadata: {},
        },
        { expectedHead: context.head },
      );
      expect(JSON.stringify((await storage.schemas.getById({ id: schema.id }))?.content)).toBe(
        '{"d":1,"c":2}',
      );
    } finally {
      await storage.close();
    }
    // An instance of the previous release, still running during a rolling deploy.
    expect(await previousRegister("before.003", { e: 1 }, "3")).toEqual([
      { outcome: "created", version: "1.2.0" },
    ]);

    expect((await migrator.revert(2)).map((m) => m.version)).toEqual(
      versions.filter((v) => v >= 3).reverse(),
    );
    const rows = await sql<{ version: string; content: unknown }[]>`
      SELECT version, content FROM schemas WHERE subject = 'before.003' ORDER BY version_sort`;
    expect([...rows]).toEqual([
      { version: "1.0.0", content: { a: 2, b: 1 } },
      { version: "1.1.0", content: { c: 2, d: 1 } },
      { version: "1.2.0", content: { e: 1 } },
    ]);
  });

  test("004 numbers the rows written before it: content ids by content, subject versions in semver order; the previous register keeps working", async () => {
    const db = await database();
    const sql = client(db.url);
    // Up to 004 alone, so that later migrations leave this test as it is.
    const migrator = new Migrator(sql, migrations.slice(0, 4));
    await new Migrator(sql, migrations.slice(0, 3)).run();
    // 003's register, with the version given (as that release's service sends it).
    const register003 = async (subject: string, version: string, sort: string, hash: string) => {
      const [row] = await sql<{ outcome: string }[]>`
        SELECT outcome FROM registry_register(${subject}, ${version}, ${version}, ${sort}, 'json', 'active',
          ${sql.json({ h: hash })}, NULL, ${`sha256:${hash.repeat(64)}`}, 10, 'inline', NULL, '{}'::jsonb, NULL)`;
      return row?.outcome;
    };
    // Inserted out of semver order: 2.0.0 before 1.0.0.
    expect(await register003("before.004.a", "2.0.0", "0012.0010.0010~", "a")).toBe("created");
    expect(await register003("before.004.a", "1.0.0", "0011.0010.0010~", "b")).toBe("created");
    expect(await register003("before.004.b", "1.0.0", "0011.0010.0010~", "a")).toBe("created");

    expect((await migrator.run()).map((m) => m.version)).toEqual([4]);
    const numbered = async () => [
      ...(await sql<{ subject: string; version: string; subject_version: number; content_id: string }[]>`
        SELECT subject, version, subject_version, content_id FROM schemas ORDER BY subject, subject_version`),
    ];
    const rows = await numbered();
    expect(rows.map((r) => [r.subject, r.version, r.subject_version])).toEqual([
      ["before.004.a", "1.0.0", 1],
      ["before.004.a", "2.0.0", 2],
      ["before.004.b", "1.0.0", 1],
    ]);
    // The same content under two subjects shares its id; ids follow the order of first registration.
    expect(rows[2]!.content_id).toBe(rows[1]!.content_id);
    expect(Number(rows[1]!.content_id)).toBeLessThan(Number(rows[0]!.content_id));

    // An instance of the previous release, during a rolling deploy: its rows get both numbers.
    expect(await register003("before.004.b", "1.1.0", "0011.0011.0010~", "b")).toBe("created");
    const after = await numbered();
    expect(after.at(-1)).toMatchObject({
      subject: "before.004.b",
      subject_version: 2,
      content_id: rows[0]!.content_id,
    });

    expect((await migrator.revert()).map((m) => m.version)).toEqual([4]);
    expect([...(await sql`SELECT count(*)::integer AS n FROM schemas`)]).toEqual([{ n: 4 }]);
  });

  test("003 gives up on a lock it cannot get within its lock_timeout, rather than queue the registry behind it", async () => {
    const db = await database();
    const sql = client(db.url);
    await new Migrator(sql, migrations.slice(0, 2)).run();
    const holder = client(db.url);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A long read holds ACCESS SHARE on `schemas`, which ALTER TABLE must wait for.
    const reading = holder.begin(async (tx) => {
      await tx`SELECT count(*) FROM schemas`;
      await held;
    });
    await Bun.sleep(100);
    const started = performance.now();
    const error = await new Migrator(sql, migrations)
      .run()
      .catch((e: unknown) => e)
      .finally(release);
    await reading;
    expect(isRegistryError(error) && error.message).toMatch(
      /could not apply migration 003_schema_evolution: .*lock timeout/,
    );
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await recorded(sql)).toEqual([1, 2]);
    expect(await tables(sql)).not.toContain("global_config");
    expect((await new Migrator(sql, migrations).run()).map((m) => m.version)).toEqual(
      versions.filter((v) => v >= 3),
    );
  }, 30_000); // Past the migration's 5 s lock_timeout, whatever the default test limit.

  test("refuses to run or revert when an applied migration's file changed, and says which", async () => {
    const db = await database();
    const sql = client(db.url);
    await new Migrator(sql, migrations).run();

    const tampered: Migration[] = [
      migrations[0]!,
      {
        ...migrations[1]!,
        up: `${migrations[1]!.up}\n-- an edit`,
        checksum: await sha256Hex(`${migrations[1]!.up}\n-- an edit`),
      },
      ...migrations.slice(2),
    ];
    const migrator = new Migrator(sql, tampered);
    for (const attempt of [() => migrator.run(), () => migrator.revert()]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isRegistryError(error) && error.message).toMatch(
        /002_indexes_optimization was changed after it was applied/,
      );
    }
    const info = await migrator.info();
    expect(info.map((s) => s.problem)).toEqual(versions.map((v) => (v === 2 ? "checksum_mismatch" : null)));
    // Nothing was reverted.
    expect(await recorded(sql)).toEqual(versions);
  });

  test("refuses a database with a migration this build does not know", async () => {
    const db = await database();
    const sql = client(db.url);
    await new Migrator(sql, migrations).run();
    const older = new Migrator(sql, migrations.slice(0, 1));
    const error = await older.run().catch((e: unknown) => e);
    expect(isRegistryError(error) && error.message).toMatch(
      /002_indexes_optimization applied, which this build does not contain/,
    );
    expect((await older.info()).map((s) => [s.version, s.problem])).toEqual(
      versions.map((v) => [v, v === 1 ? null : "unknown"]),
    );
  });

  test("two migrators starting at once apply each migration exactly once", async () => {
    const db = await database();
    const a = new Migrator(client(db.url), migrations);
    const b = new Migrator(client(db.url), migrations);
    const [fromA, fromB] = await Promise.all([a.run(), b.run()]);
    const applied = [...fromA, ...fromB].map((m) => m.version).sort();
    expect(applied).toEqual(versions);
    // One of them did all the work while the other waited for the lock.
    expect([fromA.length, fromB.length].sort()).toEqual([0, versions.length]);
    expect(await recorded(client(db.url))).toEqual(versions);
  });

  test("a failing migration leaves nothing of itself behind and is not recorded", async () => {
    const db = await database();
    const sql = client(db.url);
    const broken: Migration = {
      version: 99,
      name: "broken",
      up: "CREATE TABLE half_done (id integer);\nSELECT no_such_function();",
      down: "DROP TABLE half_done;",
      checksum: "x",
    };
    const error = await new Migrator(sql, [...migrations, broken]).run().catch((e: unknown) => e);
    expect(isRegistryError(error) && error.message).toMatch(
      /could not apply migration 099_broken: .*no_such_function/,
    );
    expect(await recorded(sql)).toEqual(versions);
    expect(await tables(sql)).not.toContain("half_done");
  });

  test("scripts/migrate.ts runs, reverts and reports against DATABASE_URL", async () => {
    const db = await database();
    const cli = async (...args: string[]) => {
      const { code, stdout, stderr } = await runScript("scripts/migrate.ts", args, {
        ...process.env,
        DATABASE_URL: db.url,
      });
      return { out: stdout + stderr, code };
    };
    expect(await cli("run")).toMatchObject({
      code: 0,
      out: expect.stringContaining("applied migration 003"),
    });
    expect(await cli("revert", "0")).toMatchObject({
      code: 0,
      out: expect.stringContaining("reverted migration 001"),
    });
    const pending = await cli("info");
    // The status lines in order; the indented lines under a pending migration name the tables it locks.
    const statuses = pending.out
      .split("\n")
      .filter((line) => !line.startsWith("    "))
      .join("\n");
    expect(pending.out).toContain("    locks schemas:");
    expect(statuses).toMatch(
      /001_initial_schema {2}pending\n002_indexes_optimization {2}pending\n003_schema_evolution {2}pending\n004_confluent_identity {2}pending\n005_search_at_scale {2}pending/,
    );
    expect((await cli("run")).code).toBe(0);
    expect((await cli("info")).out).toMatch(/005_search_at_scale {2}applied \d{4}-/);
    expect((await cli("revert", "sideways")).code).toBe(2);
    expect(await recorded(client(db.url))).toEqual(versions);
  });
});
