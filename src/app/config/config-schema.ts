/**
 * The registry's configuration: one valibot schema over the TOML file's shape
 * (snake_case keys, one object per section), with every default declared next
 * to its key. Environment variables are folded into the same shape before
 * parsing (see `environment.ts`), so a value is checked by the same rule
 * wherever it came from. The schema's output is the camelCase `Config` the
 * code reads.
 */
import * as v from "valibot";
import { LOG_LEVELS, type LogLevel } from "../../observability/logger.ts";

const KIB = 1024;
const MIB = 1024 * KIB;


// Environment variables arrive as strings, TOML values with their own types:
// each rule accepts both and yields the typed value.

function integer(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\s*[+-]?\d+\s*$/), v.transform(Number))], message),
    v.integer(message),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];
const boolean = v.union(
  [
    v.boolean(),
    v.pipe(
      v.string(),
      v.transform((text) => text.trim().toLowerCase()),
      v.picklist([...TRUE_WORDS, ...FALSE_WORDS]),
      v.transform((word) => TRUE_WORDS.includes(word)),
    ),
  ],
  "expected true or false",
);

function text(what = "a non-empty string") {
  return v.pipe(v.string(`expected ${what}`), v.trim(), v.minLength(1, `expected ${what}`));
}

function url(schemes: readonly string[]) {
  const message = `expected a URL starting with ${schemes.map((s) => `${s}//`).join(" or ")}`;
  return v.pipe(
    v.string(message),
    v.trim(),
    v.check((value) => schemes.some((scheme) => value.toLowerCase().startsWith(`${scheme}//`)), message),
  );
}

const POSTGRES_SCHEMES = ["postgres:", "postgresql:"] as const;
/** `pglite://memory` keeps the embedded database in memory; `pglite://<dir>` persists it there. */
const DATABASE_SCHEMES = [...POSTGRES_SCHEMES, "pglite:"] as const;

/** A list: a TOML array of strings, or a comma-separated environment value. */
function list<T extends v.GenericSchema<string, string>>(item: T) {
  return v.pipe(
    v.union(
      [
        v.array(v.string()),
        v.pipe(
          v.string(),
          v.transform((value) =>
            value
              .split(",")
              .map((part) => part.trim())
              .filter((part) => part.length > 0),
          ),
        ),
      ],
      "expected a list of strings (a TOML array, or comma-separated in the environment)",
    ),
    v.array(item),
  );
}

const serverSection = v.strictObject({
  /** PORT: the HTTP port. */
  port: v.optional(integer(1, 65535), 8080),
  /** LOG_LEVEL: the least severe level that is logged. */
  log_level: v.optional(v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`), "info"),
});

const poolSection = v.strictObject({
  /** DATABASE_MAX_CONNECTIONS: the pool's size, per database (primary and each replica). */
  max_connections: v.optional(integer(1, 10_000), 50),
  /** DATABASE_MIN_CONNECTIONS: connections opened at start-up and kept; 0 opens them on demand. */
  min_connections: v.optional(integer(0, 10_000), 0),
  /** A connection idle this long is closed. */
  idle_timeout_seconds: v.optional(integer(0, 86_400), 600),
  /** A connection is replaced after this long, so the pool follows DNS and failovers. */
  max_lifetime_seconds: v.optional(integer(0, 604_800), 1800),
  /** Connecting, and waiting for a free connection, give up after this long. */
  connect_timeout_seconds: v.optional(integer(1, 600), 3),
  /** Every statement is cancelled after this long. */
  statement_timeout_ms: v.optional(integer(1, 3_600_000), 3000),
});

const cacheSection = v.strictObject({
  /** CACHE_L1_MAX_ENTRIES: entries held in process; 0 turns L1 off. */
  l1_max_entries: v.optional(integer(0, 10_000_000), 10_000),
  /** CACHE_L1_MAX_BYTES: bytes held in process, so large content cannot push out many small schemas. */
  l1_max_bytes: v.optional(integer(0, 64 * 1024 * MIB), 256 * MIB),
  /** CACHE_L1_TTL_SECONDS: an L1 entry lives at most this long. */
  l1_ttl_seconds: v.optional(integer(1, 604_800), 3600),
  /** CACHE_L1_IDLE_SECONDS: an L1 entry not read for this long expires; default half of l1_ttl_seconds. */
  l1_idle_seconds: v.optional(integer(1, 604_800)),
  /** REDIS_URL: L2 over TCP (ioredis). */
  redis_url: v.optional(url(["redis:", "rediss:"])),
  /** UPSTASH_REDIS_REST_URL: L2 over HTTP (@upstash/redis); needs upstash_token. */
  upstash_url: v.optional(url(["https:", "http:"])),
  /** UPSTASH_REDIS_REST_TOKEN */
  upstash_token: v.optional(text("a token")),
  /** REDIS_TTL_SECONDS: an L2 entry lives at most this long. */
  redis_ttl_seconds: v.optional(integer(1, 2_592_000), 3600),
  /** CACHE_WARM_ON_STARTUP: load the most read schemas into the caches at start-up. */
  warm_on_startup: v.optional(boolean, true),
  /** CACHE_WARM_SIZE: how many schemas the warm-up loads. */
  warm_size: v.optional(integer(0, 1_000_000), 100),
});

const s3Section = v.strictObject({
  /** S3_BUCKET: large content goes to this bucket; without it all content stays inline. */
  bucket: v.optional(text("a bucket name")),
  /** S3_REGION */
  region: v.optional(text("a region"), "us-east-1"),
  /** S3_PREFIX: object keys are prefix + content hash. */
  prefix: v.optional(v.string("expected a string"), "schemas/"),
  /** S3_MIN_SIZE_BYTES: content of this size or more goes to the bucket. */
  min_size_bytes: v.optional(integer(0, 1024 * 1024 * MIB), MIB),
  /** S3_ENDPOINT: an S3-compatible server (MinIO, s3rver); AWS when absent. */
  endpoint: v.optional(url(["https:", "http:"])),
  /** S3_FORCE_PATH_STYLE: bucket in the path rather than the host name, as MinIO and s3rver want. */
  force_path_style: v.optional(boolean, false),
  /** S3_PRESIGN_EXPIRY_SECONDS: lifetime of presigned URLs; S3 allows at most seven days. */
  presign_expiry_seconds: v.optional(integer(1, 604_800), 3600),
  /**
   * S3_PUBLIC_ENDPOINT: the endpoint presigned URLs name, when clients reach the
   * store at another address than the server does (MinIO inside compose); default S3_ENDPOINT.
   */
  public_endpoint: v.optional(url(["https:", "http:"])),
  /** S3_UPLOAD_EXPIRY_SECONDS: lifetime of a direct-upload URL; an upload never registered is swept after it. */
  upload_expiry_seconds: v.optional(integer(1, 604_800), 3600),
  /**
   * S3_SWEEP_INTERVAL_SECONDS: how often the server removes orphaned objects and
   * expired uploads (each instance, with jitter); 0 turns the in-server sweep off
   * (scripts/s3-sweep.ts does the same job on demand).
   */
  sweep_interval_seconds: v.optional(integer(0, 604_800), 3600),
  /**
   * S3_SWEEP_GRACE_SECONDS: an unreferenced object younger than this is kept, since
   * its row may not be committed yet. At least 15 minutes: a register rewrites an
   * object older than 10 minutes to make it young again.
   */
  sweep_grace_seconds: v.optional(integer(900, 604_800), 3600),
});

const storageSection = v.strictObject({
  /** DATABASE_URL: the primary; absent means the embedded PGlite persisted under data_dir. */
  database_url: v.optional(url(DATABASE_SCHEMES)),
  /** DATABASE_READ_URLS: read replicas; reads go there, writes and read-your-writes to the primary. */
  read_urls: v.optional(list(url(POSTGRES_SCHEMES)), []),
  /** DATABASE_MIGRATE_ON_START: apply pending migrations at start-up. */
  migrate_on_start: v.optional(boolean, true),
  /** DATA_DIR: where the embedded database lives. */
  data_dir: v.optional(text("a directory"), "./data"),
  /** MAX_SCHEMA_BYTES: the largest content accepted (API.md: 16 MiB). */
  max_schema_bytes: v.optional(integer(1, 1024 * MIB), 16 * MIB),
  pool: v.optional(poolSection, {}),
  cache: v.optional(cacheSection, {}),
  s3: v.optional(s3Section, {}),
});

/**
 * Limits other than the content size (which is `storage.max_schema_bytes`).
 * Absent keys keep the defaults of `domain/limits.ts`, where they are declared.
 */
const limitsSection = v.strictObject({
  max_subject_length: v.optional(integer(1, 1024)),
  max_tags: v.optional(integer(0, 1000)),
  max_tag_length: v.optional(integer(1, 1024)),
  max_description_length: v.optional(integer(0, 1024 * KIB)),
  max_metadata_bytes: v.optional(integer(0, 16 * MIB)),
});

/** What a TOML file (and the environment folded into it) may hold. */
export const ConfigInputSchema = v.strictObject({
  server: v.optional(serverSection, {}),
  storage: v.optional(storageSection, {}),
  limits: v.optional(limitsSection, {}),
});

export type ConfigInput = v.InferOutput<typeof ConfigInputSchema>;

/** Rules that span several keys; each names the key whose value is at fault. */
export interface CrossCheck {
  path: string;
  message: string;
}

export function crossCheck(input: ConfigInput): CrossCheck | null {
  const { pool, cache } = input.storage;
  if (pool.min_connections > pool.max_connections) {
    return {
      path: "storage.pool.min_connections",
      message: `must not exceed max_connections (${pool.max_connections})`,
    };
  }
  if (cache.upstash_url && !cache.upstash_token) {
    return { path: "storage.cache.upstash_token", message: "required when upstash_url is set" };
  }
  if (cache.upstash_token && !cache.upstash_url) {
    return { path: "storage.cache.upstash_url", message: "required when upstash_token is set" };
  }
  if (cache.redis_url && cache.upstash_url) {
    return {
      path: "storage.cache.upstash_url",
      message: "set either redis_url (TCP) or upstash_url (HTTP), not both",
    };
  }
  return null;
}

export interface PoolConfig {
  maxConnections: number;
  minConnections: number;
  idleTimeoutSeconds: number;
  maxLifetimeSeconds: number;
  connectTimeoutSeconds: number;
  statementTimeoutMs: number;
}

export type RedisConfig = { kind: "tcp"; url: string } | { kind: "upstash"; url: string; token: string };

export interface CacheConfig {
  l1MaxEntries: number;
  l1MaxBytes: number;
  l1TtlSeconds: number;
  l1IdleSeconds: number;
  /** null: no L2. */
  redis: RedisConfig | null;
  redisTtlSeconds: number;
  warmOnStartup: boolean;
  warmSize: number;
}

export interface S3Config {
  bucket: string;
  region: string;
  prefix: string;
  minSizeBytes: number;
  endpoint: string | null;
  forcePathStyle: boolean;
  presignExpirySeconds: number;
  /** null: presigned URLs name `endpoint`. */
  publicEndpoint: string | null;
  uploadExpirySeconds: number;
  /** 0: no sweep inside the server. */
  sweepIntervalSeconds: number;
  sweepGraceSeconds: number;
}

export interface LimitsConfig {
  maxSubjectLength?: number;
  maxTags?: number;
  maxTagLength?: number;
  maxDescriptionLength?: number;
  maxMetadataBytes?: number;
}

export interface Config {
  server: { port: number; logLevel: LogLevel };
  storage: {
    /** null: the embedded PGlite under `dataDir`. */
    databaseUrl: string | null;
    readUrls: string[];
    migrateOnStart: boolean;
    dataDir: string;
    maxSchemaBytes: number;
    pool: PoolConfig;
    cache: CacheConfig;
    /** null: no object store; all content stays inline. */
    s3: S3Config | null;
  };
  limits: LimitsConfig;
}

/** The validated input as the code reads it. */
export function toConfig(input: ConfigInput): Config {
  const { server, storage, limits } = input;
  const { pool, cache, s3 } = storage;
  let redis: RedisConfig | null = null;
  if (cache.redis_url) redis = { kind: "tcp", url: cache.redis_url };
  else if (cache.upstash_url && cache.upstash_token) {
    redis = { kind: "upstash", url: cache.upstash_url, token: cache.upstash_token };
  }
  const limitsConfig: LimitsConfig = {};
  if (limits.max_subject_length !== undefined) limitsConfig.maxSubjectLength = limits.max_subject_length;
  if (limits.max_tags !== undefined) limitsConfig.maxTags = limits.max_tags;
  if (limits.max_tag_length !== undefined) limitsConfig.maxTagLength = limits.max_tag_length;
  if (limits.max_description_length !== undefined) {
    limitsConfig.maxDescriptionLength = limits.max_description_length;
  }
  if (limits.max_metadata_bytes !== undefined) limitsConfig.maxMetadataBytes = limits.max_metadata_bytes;
  return {
    server: { port: server.port, logLevel: server.log_level },
    storage: {
      databaseUrl: storage.database_url ?? null,
      readUrls: storage.read_urls,
      migrateOnStart: storage.migrate_on_start,
      dataDir: storage.data_dir,
      maxSchemaBytes: storage.max_schema_bytes,
      pool: {
        maxConnections: pool.max_connections,
        minConnections: pool.min_connections,
        idleTimeoutSeconds: pool.idle_timeout_seconds,
        maxLifetimeSeconds: pool.max_lifetime_seconds,
        connectTimeoutSeconds: pool.connect_timeout_seconds,
        statementTimeoutMs: pool.statement_timeout_ms,
      },
      cache: {
        l1MaxEntries: cache.l1_max_entries,
        l1MaxBytes: cache.l1_max_bytes,
        l1TtlSeconds: cache.l1_ttl_seconds,
        l1IdleSeconds: cache.l1_idle_seconds ?? Math.max(1, Math.floor(cache.l1_ttl_seconds / 2)),
        redis,
        redisTtlSeconds: cache.redis_ttl_seconds,
        warmOnStartup: cache.warm_on_startup,
        warmSize: cache.warm_size,
      },
      s3: s3.bucket
        ? {
            bucket: s3.bucket,
            region: s3.region,
            prefix: s3.prefix,
            minSizeBytes: s3.min_size_bytes,
            endpoint: s3.endpoint ?? null,
            forcePathStyle: s3.force_path_style,
            presignExpirySeconds: s3.presign_expiry_seconds,
            publicEndpoint: s3.public_endpoint ?? null,
            uploadExpirySeconds: s3.upload_expiry_seconds,
            sweepIntervalSeconds: s3.sweep_interval_seconds,
            sweepGraceSeconds: s3.sweep_grace_seconds,
          }
        : null,
    },
    limits: limitsConfig,
  };
}
