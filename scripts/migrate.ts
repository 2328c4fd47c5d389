/**
 * Database migrations from the command line:
 *
 *   bun scripts/migrate.ts run           apply every pending migration
 *   bun scripts/migrate.ts revert        revert the last applied migration
 *   bun scripts/migrate.ts revert <N>    revert every applied migration above version N (0: all of them)
 *   bun scripts/migrate.ts info          list the migrations and their state; a pending one
 *                                        that keeps a table locked for a time growing with its
 *                                        rows says which and why (its `-- locks:` notes, and what
 *                                        a reading of its statements finds)
 *
 * The database is chosen as the server chooses it (DATABASE_URL, DATA_DIR,
 * CONFIG_FILE or --config <file>): with no DATABASE_URL, the embedded PGlite
 * under ./data. Stop the server first in that case: one PGlite directory must
 * not be opened by two processes.
 */
import { resolveDatabase } from "../src/storage/embedded/resolve-database.ts";
import { lockReport } from "../src/storage/postgres/migration-locks.ts";
import { MIGRATION_SOURCES, migrationId } from "../src/storage/postgres/migrations.ts";
import { createMigrator, type MigrationStatus } from "../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../src/storage/postgres/pool.ts";
import { runScript } from "./lib/run-script.ts";
import { loadScriptConfig } from "./lib/script-config.ts";

const USAGE = "usage: bun scripts/migrate.ts run | revert [target-version] | info  [--config <file>]";

function positional(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--config") i++;
    else if (!arg.startsWith("--config=")) out.push(arg);
  }
  return out;
}

function describe(status: MigrationStatus): string {
  const id = migrationId(status);
  if (status.problem === "unknown")
    return `${id}  applied ${status.appliedAt?.toISOString()}, NOT IN THIS BUILD`;
  if (status.problem === "checksum_mismatch") {
    return `${id}  applied ${status.appliedAt?.toISOString()}, FILE CHANGED SINCE (recorded ${status.appliedChecksum?.slice(0, 12)}…, now ${status.checksum?.slice(0, 12)}…)`;
  }
  return status.applied ? `${id}  applied ${status.appliedAt?.toISOString()}` : `${id}  pending`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const [command, target, ...extra] = positional(argv);
  const targetVersion = target === undefined ? undefined : Number(target);
  const valid =
    extra.length === 0 &&
    (command === "run" || command === "info" || command === "revert") &&
    (target === undefined ||
      (command === "revert" && Number.isSafeInteger(targetVersion) && (targetVersion ?? -1) >= 0));
  if (!valid) {
    console.error(USAGE);
    return 2;
  }

  const config = await loadScriptConfig(argv);
  const database = await resolveDatabase(config.storage.databaseUrl ?? undefined, config.storage.dataDir);
  // One connection: the migrator works on one reserved connection anyway, and PGlite takes only one.
  const sql = createPool(database.url, {
    ...config.storage.pool,
    maxConnections: 1,
    applicationName: "schema-registry-migrate",
  });
  try {
    const migrator = await createMigrator(sql, (message) => console.log(message));
    if (command === "run") {
      const applied = await migrator.run();
      if (applied.length === 0) console.log("nothing to apply: the database is up to date");
    } else if (command === "revert") {
      const reverted = await migrator.revert(targetVersion);
      if (reverted.length === 0) console.log("nothing to revert");
    } else {
      let locking = 0;
      for (const status of await migrator.info()) {
        console.log(describe(status));
        const source = MIGRATION_SOURCES.find((m) => m.version === status.version);
        if (status.applied || !source) continue;
        const lines = lockReport(source.up).map((line) => `    ${line}`);
        if (lines.length > 0) locking++;
        for (const line of lines) console.log(line);
      }
      if (locking > 0) {
        console.log(
          `${locking} pending migration(s) lock a table for a time that grows with its rows: apply them at a quiet hour`,
        );
      }
    }
    return 0;
  } finally {
    await closePool(sql);
    await database.stop();
  }
}

await runScript(main);
