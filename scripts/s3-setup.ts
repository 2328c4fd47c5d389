/**
 * Prepares the registry's bucket: creates it when missing, turns on
 * versioning, and applies lifecycle rules (abort incomplete multipart uploads
 * after a day, expire noncurrent versions after N days, expire unregistered
 * staging uploads). S3-compatible servers support these to different degrees,
 * so every step is reported as applied, already in place, refused by the
 * server (it does not support it) or failed (it could not be reached or denied
 * access), and the script goes on past a refusal.
 *
 *   bun scripts/s3-setup.ts [--noncurrent-days 30] [--strict] [--config file.toml]
 *
 * Reads the server's configuration (S3_* variables or the TOML file). Exit code 0 when the bucket is
 * there and no step failed (refusals are printed, not fatal unless --strict),
 * 1 otherwise.
 */

import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { s3ConfigFromApp } from "../src/app/config/s3-config.ts";
import { UPLOADS_FOLDER } from "../src/content/content-keys.ts";
import { createS3Client } from "../src/content/s3-object-store.ts";
import { loadScriptConfig } from "./lib/script-config.ts";

export type StepStatus = "applied" | "already" | "refused" | "failed";

export interface SetupStep {
  name: string;
  status: StepStatus;
  detail: string;
}

export interface SetupReport {
  bucket: string;
  steps: SetupStep[];
  /** The bucket exists (the registry can run on it). */
  usable: boolean;
  /** Some step could not be carried out for a reason other than the server not supporting it. */
  failed: boolean;
  /** Every step applied or already in place. */
  complete: boolean;
}

export interface SetupOptions {
  client: S3Client;
  bucket: string;
  region: string;
  prefix: string;
  /** Noncurrent object versions are removed this many days after they were replaced. */
  noncurrentDays: number;
  /** Staging uploads are removed after this many days (S3 counts lifecycle in whole days). */
  uploadExpiryDays: number;
}

const RULE_IDS = {
  abortMultipart: "registry-abort-incomplete-multipart",
  noncurrent: "registry-expire-noncurrent-versions",
  uploads: "registry-expire-staging-uploads",
} as const;

export async function setupBucket(options: SetupOptions): Promise<SetupReport> {
  const { client, bucket, prefix } = options;
  const steps: SetupStep[] = [];

  const bucketStep = await ensureBucket(client, bucket, options.region);
  steps.push(bucketStep);
  if (bucketStep.status === "failed") return finish(bucket, steps);

  steps.push(await enableVersioning(client, bucket));

  const rules: LifecycleRule[] = [
    {
      ID: RULE_IDS.abortMultipart,
      Status: "Enabled",
      Filter: { Prefix: prefix },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
    {
      ID: RULE_IDS.noncurrent,
      Status: "Enabled",
      Filter: { Prefix: prefix },
      NoncurrentVersionExpiration: { NoncurrentDays: options.noncurrentDays },
    },
    {
      ID: RULE_IDS.uploads,
      Status: "Enabled",
      Filter: { Prefix: `${prefix}${UPLOADS_FOLDER}` },
      Expiration: { Days: options.uploadExpiryDays },
    },
  ];
  const names = [
    `lifecycle: abort incomplete multipart uploads after 1 day (${prefix || "whole bucket"})`,
    `lifecycle: expire noncurrent versions after ${options.noncurrentDays} days (${prefix || "whole bucket"})`,
    `lifecycle: expire staging uploads after ${options.uploadExpiryDays} day(s) (${prefix}${UPLOADS_FOLDER})`,
  ];
  const outcome = await applyLifecycle(client, bucket, rules);
  names.forEach((name, i) => {
    steps.push({ name, ...outcome[i]! });
  });
  return finish(bucket, steps);
}

function finish(bucket: string, steps: SetupStep[]): SetupReport {
  return {
    bucket,
    steps,
    usable: steps[0]?.status === "applied" || steps[0]?.status === "already",
    failed: steps.some((s) => s.status === "failed"),
    complete: steps.every((s) => s.status === "applied" || s.status === "already"),
  };
}

async function ensureBucket(client: S3Client, bucket: string, region: string): Promise<SetupStep> {
  const name = "bucket";
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return { name, status: "already", detail: "exists" };
  } catch (error) {
    if (statusOf(error) !== 404) return { name, status: "failed", detail: describe(error) };
  }
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that must not be named here.
        ...(region !== "us-east-1"
          ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
          : {}),
      }),
    );
    return { name, status: "applied", detail: "created" };
  } catch (error) {
    return { name, status: "failed", detail: `could not be created: ${describe(error)}` };
  }
}

async function enableVersioning(client: S3Client, bucket: string): Promise<SetupStep> {
  const name = "versioning";
  try {
    const current = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    if (current.Status === "Enabled") return { name, status: "already", detail: "enabled" };
  } catch {
    // Some servers cannot report versioning but may still accept turning it on: try.
  }
  try {
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
    return { name, status: "applied", detail: "enabled" };
  } catch (error) {
    return isRefusal(error)
      ? { name, status: "refused", detail: `the server would not apply it (${describe(error)})` }
      : { name, status: "failed", detail: describe(error) };
  }
}

/**
 * Lifecycle configuration is one document per bucket: rules of others are kept,
 * the registry's own (by ID) are replaced.
 */
async function applyLifecycle(
  client: S3Client,
  bucket: string,
  rules: LifecycleRule[],
): Promise<{ status: StepStatus; detail: string }[]> {
  const ours = new Set(rules.map((r) => r.ID));
  let existing: LifecycleRule[] = [];
  try {
    const current = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    existing = current.Rules ?? [];
  } catch {
    // No configuration yet (NoSuchLifecycleConfiguration), or the server cannot report it.
  }
  const already = rules.map((rule) => {
    const found = existing.find((r) => r.ID === rule.ID);
    return found !== undefined && JSON.stringify(found) === JSON.stringify(rule);
  });
  if (already.every(Boolean)) return rules.map(() => ({ status: "already" as const, detail: "in place" }));
  try {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [...existing.filter((r) => !ours.has(r.ID)), ...rules] },
      }),
    );
    return rules.map(() => ({ status: "applied" as const, detail: "applied" }));
  } catch (error) {
    const status: StepStatus = isRefusal(error) ? "refused" : "failed";
    const detail =
      status === "refused" ? `the server would not apply it (${describe(error)})` : describe(error);
    return rules.map(() => ({ status, detail }));
  }
}

interface SdkErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

/**
 * The server answered and would not apply it: 501 or any 4xx but access denied
 * (s3rver, for one, answers PutBucketVersioning with 409 BucketAlreadyExists).
 * No answer, 401/403 and other 5xx are failures.
 */
function isRefusal(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return false;
  return status === 501 || (status >= 400 && status < 500 && status !== 401 && status !== 403);
}

function describe(error: unknown): string {
  const e = error as SdkErrorShape & { code?: string };
  const status = statusOf(error);
  const name = e?.name && e.name !== "Error" ? e.name : (e?.code ?? "error");
  return status ? `${name}, HTTP ${status}` : name;
}

export function formatSetupReport(report: SetupReport): string {
  const width = Math.max(...report.steps.map((s) => s.name.length));
  const lines = [`bucket ${report.bucket}:`];
  for (const step of report.steps) {
    lines.push(`  ${step.name.padEnd(width)}  ${step.status.toUpperCase().padEnd(8)} ${step.detail}`);
  }
  const refused = report.steps.filter((s) => s.status === "refused");
  if (refused.length > 0) {
    lines.push(
      `${refused.length} step(s) refused by the server: configure them by other means, or rely on the registry's orphan sweep (scripts/s3-sweep.ts).`,
    );
  }
  lines.push(report.usable ? "bucket is usable." : "bucket is NOT usable: see the failures above.");
  return lines.join("\n");
}

export function parseSetupArgs(argv: string[]): { noncurrentDays: number; strict: boolean } {
  let noncurrentDays = 30;
  let strict = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--config") i++;
    else if (arg?.startsWith("--config=")) continue;
    else if (arg === "--strict") strict = true;
    else if (arg === "--noncurrent-days") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1)
        throw new Error("--noncurrent-days needs a whole number of days ≥ 1");
      noncurrentDays = value;
    } else throw new Error(`unknown argument ${arg}; usage: s3-setup [--noncurrent-days N] [--strict]`);
  }
  return { noncurrentDays, strict };
}

async function main(): Promise<number> {
  const args = parseSetupArgs(process.argv.slice(2));
  const appConfig = await loadScriptConfig();
  const config = s3ConfigFromApp(appConfig);
  if (!config) {
    console.error("S3_BUCKET is not set: nothing to set up (the registry keeps all content inline).");
    return 1;
  }
  const client = createS3Client(config);
  try {
    const report = await setupBucket({
      client,
      bucket: config.bucket,
      region: config.region,
      prefix: config.prefix,
      noncurrentDays: args.noncurrentDays,
      uploadExpiryDays: Math.max(1, Math.ceil(config.uploadExpirySeconds / 86_400)),
    });
    console.log(formatSetupReport(report));
    return report.usable && !report.failed && (!args.strict || report.complete) ? 0 : 1;
  } finally {
    client.destroy();
  }
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
