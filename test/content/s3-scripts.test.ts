/**
 * scripts/s3-setup.ts and scripts/s3-sweep.ts: their functions against s3rver
 * and the real PostgreSQL, and each script run once as a process the way an
 * operator runs it (configuration from the environment, AWS credentials from
 * the standard variables).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { formatSetupReport, parseSetupArgs, setupBucket } from "../../scripts/s3-setup.ts";
import { parseDuration, parseSweepArgs } from "../../scripts/s3-sweep.ts";
import { createS3Client } from "../../src/content/s3-object-store.ts";
import type { PostgresStorage } from "../../src/storage/postgres/postgres-storage.ts";
import { openStorage } from "../storage/open-storage.ts";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/database.ts";
import { runScript } from "../support/run-script.ts";
import { closedEndpoint, S3RVER_CREDENTIALS, startS3, type TestS3 } from "../support/s3.ts";
import { bytesOf } from "./helpers.ts";

const HOUR = 60 * 60 * 1000;

let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

/** Runs an S3 script with s3rver's endpoint and credentials, plus `env`. */
function runS3Script(script: string, args: string[], env: Record<string, string>) {
  return runScript(script, args, {
    PATH: process.env.PATH ?? "",
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    ...env,
  });
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
    const run = await runS3Script("scripts/s3-setup.ts", [], { S3_BUCKET: "script-bucket" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("bucket script-bucket:");
    expect(run.stdout).toMatch(/bucket\s+APPLIED\s+created/);
    expect(
      (await runS3Script("scripts/s3-setup.ts", ["--strict"], { S3_BUCKET: "script-bucket" })).code,
    ).toBe(1);
    const none = await runS3Script("scripts/s3-setup.ts", [], {});
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
    expect(parseSweepArgs([])).toEqual({ dryRun: false, graceMs: null, uploadExpiryMs: null, json: false });
    expect(parseSweepArgs(["--dry-run", "--grace", "2h", "--upload-expiry", "30m", "--json"])).toEqual({
      dryRun: true,
      graceMs: 2 * HOUR,
      uploadExpiryMs: 30 * 60 * 1000,
      json: true,
    });
    expect(() => parseSweepArgs(["--grace"])).toThrow("needs a value");
  });
});

describe.skipIf(!(await postgresAvailable()))("s3-sweep against PostgreSQL", () => {
  // A database of its own with the registry's migrations, so the script sees real rows.
  let database: TestDatabase;
  let storage: PostgresStorage;

  beforeAll(async () => {
    database = await createTestDatabase();
    storage = await openStorage(database.url, { pool: { maxConnections: 2 } });
  });

  afterAll(async () => {
    await storage?.close();
    await database?.drop();
  });

  /** A row in the object store pointing at `key`, the way the registry writes one. */
  const rowFor = (key: string, n: number) =>
    storage.schemas.register({
      subject: `com.acme.sweep${n}`,
      version: "1.0.0",
      schemaType: "json",
      state: "active",
      content: null,
      contentText: null,
      contentHash: `sha256:${key.slice("schemas/".length, "schemas/".length + 64)}`,
      contentSize: 100,
      contentLocation: "object_store",
      contentKey: key,
      metadata: {},
    });

  test("the storage answers which content keys rows point at, soft-deleted rows included", async () => {
    const live = (await s3.content.putContent(bytesOf(10, 41), "json")).key;
    const deleted = (await s3.content.putContent(bytesOf(11, 42), "json")).key;
    const { schema } = await rowFor(deleted, 2);
    await rowFor(live, 1);
    await storage.schemas.softDelete({ id: schema.id });
    const other = `schemas/${"0".repeat(64)}.json`;
    expect(await storage.contentLocks.contentKeysReferenced([live, deleted, other])).toEqual(
      new Set([live, deleted]),
    );
    expect(await storage.contentLocks.contentKeysReferenced([])).toEqual(new Set());
  });

  test("as a process: a dry run lists, a real run removes only the orphan", async () => {
    const referenced = (await s3.content.putContent(bytesOf(100, 31), "json")).key;
    const orphan = (await s3.content.putContent(bytesOf(200, 32), "json")).key;
    const young = (await s3.content.putContent(bytesOf(300, 33), "json")).key;
    await s3.backdate(referenced, 2 * HOUR);
    await s3.backdate(orphan, 2 * HOUR);
    await rowFor(referenced, 3);
    const env = { S3_BUCKET: s3.bucket, DATABASE_URL: database.url };

    const dry = await runS3Script("scripts/s3-sweep.ts", ["--dry-run", "--json"], env);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, orphansDeleted: 1 });
    expect(await s3.store.head(orphan)).not.toBeNull();

    const real = await runS3Script("scripts/s3-sweep.ts", ["--grace", "1h"], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain("orphans deleted: 1 (200 bytes)");
    expect(await s3.store.head(orphan)).toBeNull();
    expect(await s3.store.head(referenced)).not.toBeNull();
    expect(await s3.store.head(young)).not.toBeNull();
  });
});
