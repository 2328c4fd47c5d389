/**
 * Builds the embedded database's template ahead of the first start (run by
 * `npm install` as its postinstall step): an in-memory PGlite, initialised and
 * migrated, kept as the data directory every fresh embedded database is then
 * unpacked from (src/storage/embedded/data-dir-template.ts). So even the first
 * `npm start` of a clone skips initdb and the migrations.
 *
 *   bun scripts/pglite-template.ts
 *
 * Best effort by design: an install must not fail because a cache could not
 * be written; the registry then builds the template on its first start.
 */
import { startEmbeddedPostgres } from "../src/storage/embedded/pglite-server.ts";
import { migrate } from "../src/storage/postgres/migrator.ts";
import { closePool, createPool } from "../src/storage/postgres/pool.ts";

async function main(): Promise<void> {
  const started = performance.now();
  const database = await startEmbeddedPostgres(null);
  try {
    if (database.fromTemplate || !database.saveAsTemplate) {
      console.log("embedded database template: already built");
      return;
    }
    const sql = createPool(database.url, { maxConnections: 1, applicationName: "schema-registry-template" });
    try {
      await migrate(sql, () => {});
    } finally {
      await closePool(sql);
    }
    await database.saveAsTemplate();
    console.log(`embedded database template: built in ${Math.round(performance.now() - started)} ms`);
  } finally {
    await database.stop();
  }
}

try {
  await main();
} catch (error) {
  console.warn(`embedded database template not built (the first start builds it): ${String(error)}`);
}
