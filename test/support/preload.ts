/**
 * Loaded by bun test before every test file (bunfig.toml). Keeps test runs
 * quiet and gives tests and hooks one generous time limit; service discovery
 * lives in the support modules that need it (database.ts, redis.ts, s3.ts).
 */
import { setDefaultTimeout } from "bun:test";

process.env.LOG_LEVEL ??= "silent";

// Tests start PGlite, throwaway PostgreSQL clusters, redis-server and s3rver,
// which take seconds on a busy two-core machine. bunfig's `timeout` covers
// tests but not beforeAll/afterAll hooks (Bun 1.4), which stay at 5 s unless
// the default is raised here.
setDefaultTimeout(60_000);
