/**
 * Loaded by bun test before every test file (bunfig.toml). Keeps test runs
 * quiet and deterministic; service discovery lives in the support modules
 * that need it (database.ts, redis.ts, s3.ts).
 */
process.env.LOG_LEVEL ??= "silent";
