/**
 * The object-store tier's settings (content/config.ts's `S3Config`) from the
 * configuration: its `storage.s3` section, plus what the composition root
 * adds — the upload limit, which follows the content limit, and settings the
 * configuration does not carry (explicit credentials for tests). Code that
 * builds a store without a configuration (tests, benches) resolves its
 * settings here too, so they get the schema's defaults and rules.
 */
import * as v from "valibot";
import type { S3Config, S3Credentials } from "../../content/config.ts";
import { DEFAULT_LIMITS, uploadLimitFor } from "../../domain/limits.ts";
import { type Config, s3Settings } from "./config-schema.ts";
import { camelCase, snakeCase } from "./rules.ts";

/** Everything but the bucket may be left out; `null` counts as left out (as the configuration's `endpoint: null`). */
export type S3ConfigInput = Pick<S3Config, "bucket"> & {
  [K in Exclude<keyof S3Config, "bucket">]?: S3Config[K] | null;
};

/** Fills in the defaults and validates; throws an Error naming the bad setting. */
export function resolveS3Config(input: S3ConfigInput): S3Config {
  const { credentials, maxObjectBytes, ...settings } = input;
  const section = Object.fromEntries(
    Object.entries(settings)
      .filter(([, value]) => value !== undefined && value !== null)
      .map(([key, value]) => [snakeCase(key), value]),
  );
  const result = v.safeParse(s3Settings, section);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((item) => camelCase(String(item.key))).join(".") ?? "config";
    throw new Error(`invalid object store configuration: ${path}: ${issue.message}`);
  }
  const { bucket, endpoint, publicEndpoint, ...rest } = result.output;
  if (bucket === undefined)
    throw new Error("invalid object store configuration: bucket: expected a bucket name");
  return {
    ...rest,
    bucket,
    ...(endpoint !== null ? { endpoint } : {}),
    ...(publicEndpoint !== null ? { publicEndpoint } : {}),
    ...(credentials ? { credentials: complete(credentials) } : {}),
    maxObjectBytes: positive(maxObjectBytes ?? uploadLimitFor(DEFAULT_LIMITS.maxSchemaBytes)),
  };
}

/**
 * The content tier's settings from the configuration: null when no bucket is
 * configured (all content then stays inline). `overrides` are settings the
 * configuration does not carry: explicit credentials, smaller parts for a bench.
 */
export function s3ConfigFromApp(config: Config, overrides: Partial<S3ConfigInput> = {}): S3Config | null {
  const s3 = config.storage.s3;
  if (!s3) return null;
  return resolveS3Config({
    ...s3,
    maxObjectBytes: uploadLimitFor(config.storage.maxSchemaBytes),
    ...overrides,
  });
}

function complete(credentials: S3Credentials): S3Credentials {
  if (!credentials.accessKeyId || !credentials.secretAccessKey) {
    throw new Error(
      "invalid object store configuration: credentials: expected an access key id and a secret",
    );
  }
  return credentials;
}

function positive(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new Error("invalid object store configuration: maxObjectBytes: expected a positive integer");
  }
  return bytes;
}
