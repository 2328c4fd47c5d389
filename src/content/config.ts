/**
 * Configuration of the object-store content tier: the shape the S3 store is
 * built from, with its defaults documented where they are declared. The
 * operator-facing settings (S3_BUCKET, S3_REGION, …) are read once by the
 * application's configuration (src/config/); `s3ConfigFromApp` turns that into
 * this shape, and the finer settings here keep their defaults unless a caller
 * overrides them. Credentials are not part of it on purpose: the SDK's default
 * chain reads the standard AWS variables (AWS_ACCESS_KEY_ID, …, profiles, roles).
 */
import * as v from "valibot";
import type { Config } from "../app/config/config-schema.ts";

const MiB = 1024 * 1024;

/** The longest a SigV4 presigned URL may live (seven days). */
export const MAX_PRESIGN_SECONDS = 604_800;
/** S3 refuses multipart parts below 5 MiB (the last part excepted). */
export const MIN_PART_SIZE_BYTES = 5 * MiB;

export const S3_DEFAULTS = {
  region: "us-east-1",
  /** Every object of the registry lives under this prefix; the sweep never looks outside it. */
  prefix: "schemas/",
  forcePathStyle: false,
  /** Content of this size or more goes to the object store (issue 4: 1 MiB). */
  minSizeBytes: MiB,
  /**
   * Largest client upload the registry accepts and reads back. The upload is
   * the text as the client wrote it (pretty printed, say); its canonical form
   * is then held to MAX_SCHEMA_BYTES like any content. `s3ConfigFromApp`
   * allows twice MAX_SCHEMA_BYTES, the allowance a request body gets.
   */
  maxObjectBytes: 32 * MiB,
  /** Presigned GET lifetime: one hour. */
  presignExpirySeconds: 3600,
  /** Presigned PUT lifetime for direct uploads; unregistered uploads are swept after it. */
  uploadExpirySeconds: 3600,
  /** One PutObject up to this size, multipart above it. */
  partSizeBytes: 8 * MiB,
  /** Parts in flight at once during a multipart upload. */
  partConcurrency: 4,
  /**
   * An existing content-addressed object older than this is rewritten when the
   * same content is stored again, so the orphan sweep's grace period (which
   * must be longer) protects it while its new row is being committed.
   */
  refreshAfterMs: 10 * 60 * 1000,
  connectTimeoutMs: 2000,
  /** A socket that sends or receives nothing for this long fails the request. */
  idleTimeoutMs: 5000,
  /** Upper bound on a whole request, large bodies included. */
  requestTimeoutMs: 30_000,
  /** Attempts per request, the first included: failing fast beats queueing behind a dead store. */
  maxAttempts: 2,
} as const;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Config {
  bucket: string;
  region: string;
  /** Empty, or ending with `/`. */
  prefix: string;
  /** For S3-compatible servers (MinIO, s3rver, R2); absent means AWS. */
  endpoint?: string;
  /**
   * Endpoint that presigned URLs are made for, when clients reach the store by
   * another address than the server does (e.g. `minio:9000` inside compose).
   */
  publicEndpoint?: string;
  forcePathStyle: boolean;
  /** Explicit credentials (tests); absent means the SDK's default chain (AWS_* variables, profiles, roles). */
  credentials?: S3Credentials;
  minSizeBytes: number;
  maxObjectBytes: number;
  presignExpirySeconds: number;
  uploadExpirySeconds: number;
  partSizeBytes: number;
  partConcurrency: number;
  refreshAfterMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/** Everything but the bucket may be left out; `null` counts as left out (the app config says `endpoint: null`). */
export type S3ConfigInput = Pick<S3Config, "bucket"> & {
  [K in Exclude<keyof S3Config, "bucket">]?: S3Config[K] | null;
};

const positiveInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

const ConfigSchema = v.object({
  bucket: v.pipe(v.string(), v.trim(), v.minLength(3, "S3 bucket name must have 3 characters or more")),
  region: v.pipe(v.string(), v.minLength(1)),
  prefix: v.pipe(
    v.string(),
    v.check((p) => !p.startsWith("/"), "S3 prefix must not start with /"),
    v.transform((p) => (p === "" || p.endsWith("/") ? p : `${p}/`)),
  ),
  endpoint: v.optional(v.pipe(v.string(), v.url("S3 endpoint must be a URL"))),
  publicEndpoint: v.optional(v.pipe(v.string(), v.url("S3 public endpoint must be a URL"))),
  forcePathStyle: v.boolean(),
  credentials: v.optional(
    v.object({
      accessKeyId: v.pipe(v.string(), v.minLength(1)),
      secretAccessKey: v.pipe(v.string(), v.minLength(1)),
      sessionToken: v.optional(v.string()),
    }),
  ),
  minSizeBytes: positiveInt(0),
  maxObjectBytes: positiveInt(1),
  presignExpirySeconds: positiveInt(1, MAX_PRESIGN_SECONDS),
  uploadExpirySeconds: positiveInt(1, MAX_PRESIGN_SECONDS),
  partSizeBytes: positiveInt(MIN_PART_SIZE_BYTES),
  partConcurrency: positiveInt(1, 16),
  refreshAfterMs: positiveInt(0),
  connectTimeoutMs: positiveInt(1),
  idleTimeoutMs: positiveInt(1),
  requestTimeoutMs: positiveInt(1),
  maxAttempts: positiveInt(1, 10),
});

/** Fills in the defaults and validates; throws a readable Error naming the bad setting. */
export function resolveS3Config(input: S3ConfigInput): S3Config {
  const merged = { ...S3_DEFAULTS, ...stripUnset(input) };
  const result = v.safeParse(ConfigSchema, merged);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "config";
    throw new Error(`invalid object store configuration: ${path}: ${issue.message}`);
  }
  return result.output;
}

/**
 * The content tier's configuration from the application's: null when no
 * bucket is configured (all content then stays inline).
 */
export function s3ConfigFromApp(config: Config): S3Config | null {
  const s3 = config.storage.s3;
  if (!s3) return null;
  return resolveS3Config({
    bucket: s3.bucket,
    region: s3.region,
    prefix: s3.prefix,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    minSizeBytes: s3.minSizeBytes,
    presignExpirySeconds: s3.presignExpirySeconds,
    publicEndpoint: s3.publicEndpoint,
    uploadExpirySeconds: s3.uploadExpirySeconds,
    maxObjectBytes: uploadLimitFor(config.storage.maxSchemaBytes),
  });
}

/** The largest direct upload for a content limit: the same allowance a request body gets (twice the content). */
export function uploadLimitFor(maxSchemaBytes: number): number {
  return 2 * maxSchemaBytes;
}

function stripUnset<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined && value !== null),
  ) as Partial<T>;
}
