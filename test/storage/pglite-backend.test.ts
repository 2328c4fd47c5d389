/**
 * The backend contract against the embedded PGlite (in memory), through the
 * same postgres.js pool and the same migrations as on a real server.
 */
import { createPostgresBackend } from "../../src/storage/postgres/postgres-backend.ts";
import { startMemoryPglite } from "../support/database.ts";
import { backendContract } from "./backend-contract.ts";

const quiet = { info() {}, error() {} };

backendContract(
  "PostgresBackend on PGlite",
  async () => {
    const database = await startMemoryPglite();
    const backend = await createPostgresBackend({
      url: database.url,
      maxConnections: database.maxConnections,
      log: quiet,
    });
    return {
      backend,
      async teardown() {
        await backend.close();
        await database.stop();
      },
    };
  },
  // PGlite runs one statement at a time; the race is still decided by the lock.
  { concurrency: 20 },
);
