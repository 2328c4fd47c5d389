/**
 * scripts/s3-setup.ts and scripts/s3-sweep.ts: their functions against s3rver
 * and the real PostgreSQL, and each script run once as a process the way an
 * operator runs it (configuration from the environment, AWS credentials from
 * the standard variables).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { formatSetupReport, parseSetupArgs, setupBucket } from "../../scripts/s3-setup.ts";
import { parseDuration, parseSweepArgs, postgresReferenceCheck } from "../../scripts/s3-sweep.ts";
import { createS3Client } from "../../src/content/s3-object-store.ts";
import { closedEndpoint, S3RVER_CREDENTIALS, startS3, type TestS3 } from "../support/s3.ts";
import { bytesOf } from "./helpers.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const HOUR = 60 * 60 * 1000;

async function postgresReachable(): Promise<boolean> {
  const sql = postgres(DATABASE_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** CI=true: a missing PostgreSQL fails the run; elsewhere the suite is skipped, loudly. */
async function requirePostgres(suite: string): Promise<boolean> {
  if (await postgresReachable()) return true;
  const reason = `PostgreSQL at ${DATABASE_URL.replace(/:[^:@/]*@/, ":***@")} does not answer`;
  if (process.env.CI === "true")
    throw new Error(`${suite}: ${reason} (CI=true: a missing service fails the run)`);
  console.warn(`\n${"!".repeat(78)}\n!! SKIPPING ${suite}: ${reason}.\n${"!".repeat(78)}\n`);
  return false;
}

let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

/** Async on purpose: s3rver runs in this process, and a blocking spawn would starve it. */
async function runScript(script: string, args: string[], env: Record<string, string>) {
  const child = Bun.spawn(["./node_modules/.bin/bun", script, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

describe("s3-setup", () => {
  test("creates a missing bucket and reports plainly what s3rver refuses", async () => {
    const client = createS3Client({ ...s3.config });
    const report = await setupBucket({
      client,
      bucket: "fresh-bucket",
      region: "us-east-1",
      prefix: "schemas/",
      noncurrentDays: 30,
      uploadExpiryDays: 1,
    });
    expect(report.steps.map((s) => [s.name.split(":")[0], s.status])).toEqual([
      ["bucket", "applied"],
      ["versioning", "refused"],
      ["lifecycle", "refused"],
      ["lifecycle", "refused"],
      ["lifecycle", "refused"],
    ]);
    expect(report).toMatchObject({ usable: true, failed: false, complete: false });
    expect(report.steps[1]!.detail).toContain(
      "the server would not apply it (BucketAlreadyExists, HTTP 409)",
    );
    expect(report.steps[2]!.detail).toContain("NotImplemented, HTTP 501");
    const text = formatSetupReport(report);
    expect(text).toContain("expire noncurrent versions after 30 days");
    expect(text).toContain("expire staging uploads after 1 day(s) (schemas/uploads/)");
    expect(text).toContain("4 step(s) refused by the server");

    const again = await setupBucket({
      client,
      bucket: "fresh-bucket",
      region: "us-east-1",
      prefix: "schemas/",
      noncurrentDays: 30,
      uploadExpiryDays: 1,
    });
    expect(again.steps[0]).toMatchObject({ name: "bucket", status: "already" });
    client.destroy();
  });

  test("an unreachable server fails at the bucket step and goes no further", async () => {
    const client = createS3Client({ ...s3.config, endpoint: await closedEndpoint() });
    const report = await setupBucket({
      client,
      bucket: "any",
      region: "us-east-1",
      prefix: "schemas/",
      noncurrentDays: 30,
      uploadExpiryDays: 1,
    });
    expect(report.steps).toHaveLength(1);
    expect(report).toMatchObject({ usable: false, failed: true });
    client.destroy();
  });

  test("arguments", () => {
    expect(parseSetupArgs([])).toEqual({ noncurrentDays: 30, strict: false });
    expect(parseSetupArgs(["--noncurrent-days", "7", "--strict", "--config", "x.toml"])).toEqual({
      noncurrentDays: 7,
      strict: true,
    });
    expect(() => parseSetupArgs(["--noncurrent-days", "0"])).toThrow();
    expect(() => parseSetupArgs(["--bogus"])).toThrow("unknown argument");
  });

  test("as a process: exit 0 with refusals, 1 under --strict, 1 without a bucket", async () => {
    const run = await runScript("scripts/s3-setup.ts", [], { S3_BUCKET: "script-bucket" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("bucket script-bucket:");
    expect(run.stdout).toMatch(/bucket\s+APPLIED\s+created/);
    expect((await runScript("scripts/s3-setup.ts", ["--strict"], { S3_BUCKET: "script-bucket" })).code).toBe(
      1,
    );
    const none = await runScript("scripts/s3-setup.ts", [], {});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("S3_BUCKET is not set");
  });
});

describe("s3-sweep arguments", () => {
  test("durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("1h")).toBe(HOUR);
    expect(parseDuration("2d")).toBe(48 * HOUR);
    expect(parseDuration("30")).toBe(30_000);
    expect(() => parseDuration("1 hour")).toThrow("not a duration");
  });

  test("flags", () => {
    expect(parseSweepArgs([])).toEqual({ dryRun: false, graceMs: HOUR, uploadExpiryMs: null, json: false });
    expect(parseSweepArgs(["--dry-run", "--grace", "2h", "--upload-expiry", "30m", "--json"])).toEqual({
      dryRun: true,
      graceMs: 2 * HOUR,
      uploadExpiryMs: 30 * 60 * 1000,
      json: true,
    });
    expect(() => parseSweepArgs(["--grace"])).toThrow("needs a value");
  });
});

describe.skipIf(!(await requirePostgres("s3-sweep against PostgreSQL")))(
  "s3-sweep against PostgreSQL",
  () => {
    // A namespace of its own, so the test's `schemas` table never meets the registry's.
    const namespace = `sweep_test_${crypto.randomUUID().slice(0, 8)}`;
    let sql: postgres.Sql;

    beforeAll(async () => {
      sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
      await sql.unsafe(`create schema ${namespace}; create table ${namespace}.schemas (content_key text)`);
    });

    afterAll(async () => {
      await sql?.unsafe(`drop schema if exists ${namespace} cascade`);
      await sql?.end({ timeout: 2 });
    });

    test("the reference check answers from schemas.content_key", async () => {
      const scoped = postgres(`${DATABASE_URL}?search_path=${namespace}`, { max: 1 });
      await sql.unsafe(`insert into ${namespace}.schemas values ('schemas/a.json'), (null)`);
      const check = postgresReferenceCheck(scoped);
      expect(await check(["schemas/a.json", "schemas/b.json"])).toEqual(new Set(["schemas/a.json"]));
      expect(await check([])).toEqual(new Set());
      await scoped.end({ timeout: 2 });
    });

    test("as a process: a dry run lists, a real run removes only the orphan", async () => {
      const referenced = (await s3.content.putContent(bytesOf(100, 31), "json")).key;
      const orphan = (await s3.content.putContent(bytesOf(200, 32), "json")).key;
      const young = (await s3.content.putContent(bytesOf(300, 33), "json")).key;
      await s3.backdate(referenced, 2 * HOUR);
      await s3.backdate(orphan, 2 * HOUR);
      await sql.unsafe(`insert into ${namespace}.schemas values ($1)`, [referenced]);
      const env = { S3_BUCKET: s3.bucket, DATABASE_URL: `${DATABASE_URL}?search_path=${namespace}` };

      const dry = await runScript("scripts/s3-sweep.ts", ["--dry-run", "--json"], env);
      expect(dry.stderr).toBe("");
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, orphansDeleted: 1, referenced: 1 });
      expect(await s3.store.head(orphan)).not.toBeNull();

      const real = await runScript("scripts/s3-sweep.ts", ["--grace", "1h"], env);
      expect(real.code).toBe(0);
      expect(real.stdout).toContain("orphans deleted: 1 (200 bytes)");
      expect(await s3.store.head(orphan)).toBeNull();
      expect(await s3.store.head(referenced)).not.toBeNull();
      expect(await s3.store.head(young)).not.toBeNull();
    });
  },
);
