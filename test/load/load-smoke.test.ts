/**
 * The load test as CI runs it: a few seconds at concurrency 10 against a
 * registry that the script starts itself (a child `bun src/server.ts`) on a
 * fresh database of the machine's PostgreSQL. It asserts that nothing failed
 * and that every operation of the mix ran, never how fast: CI machines vary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { LoadTestReport } from "../../scripts/load-test.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";

const available = await postgresAvailable();
const ROOT = join(import.meta.dir, "..", "..");

describe.skipIf(!available)("load test smoke run", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  test("3 s at concurrency 10: every operation runs, none fails, the report is one JSON document", async () => {
    const child = Bun.spawn(
      [
        process.execPath,
        "scripts/load-test.ts",
        ...["--duration", "3s", "--concurrency", "10", "--warmup", "0"],
        ...["--subjects", "30", "--versions", "2", "--mix", "read=80,write=10,search=10", "--json"],
      ],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url }, stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) console.error(stderr, stdout);
    expect(code).toBe(0);

    const report = JSON.parse(stdout) as LoadTestReport;
    expect(report.errors).toEqual({ total: 0, by_status: {} });
    expect(report.seeding.schemas).toBe(60);
    for (const op of ["read", "write", "search"] as const) {
      expect(report.operations[op].requests).toBeGreaterThan(0);
      expect(report.operations[op].errors).toBe(0);
      expect(report.operations[op].p50_ms).toBeGreaterThan(0);
      expect(report.operations[op].p99_ms).toBeGreaterThanOrEqual(report.operations[op].p50_ms);
    }
    expect(report.requests).toBe(
      report.operations.read.requests + report.operations.write.requests + report.operations.search.requests,
    );
    expect(report.elapsed_s).toBeGreaterThanOrEqual(3);
    expect(report.elapsed_s).toBeLessThan(10);
    // The server the script started was stopped with it: nothing answers on its port any more.
    await expect(fetch(`${report.target.url}/health/live`)).rejects.toThrow();
  }, 90_000);
});
