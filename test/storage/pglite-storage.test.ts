/**
 * The storage contract against the embedded PGlite (in memory), through the
 * same postgres.js pool and the same migrations as on a real server.
 */
import { startMemoryPglite } from "../support/database.ts";
import { openStorage } from "./open-storage.ts";
import { storageContract } from "./repository-contract.ts";

storageContract(
  "PostgreSQL storage on PGlite",
  async () => {
    const database = await startMemoryPglite();
    const storage = await openStorage(database.url, { pool: { maxConnections: database.maxConnections } });
    return {
      storage,
      async teardown() {
        await storage.close();
        await database.stop();
      },
    };
  },
  // PGlite runs one statement at a time; the race is still decided by the lock.
  { concurrency: 20 },
);
