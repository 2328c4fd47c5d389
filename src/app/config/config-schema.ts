/**
 * The registry's configuration, described once: one valibot schema over the
 * TOML file's shape (snake_case keys, one object per section), with each
 * setting's rule, default and environment variable declared together. The
 * code reads the schema's output, camelCase, and its types are inferred from
 * it; environment.ts and the README's test read the table of settings off it.
 */
import * as v from "valibot";
import { MAX_PRESIGN_SECONDS, MIN_PART_SIZE_BYTES } from "../../content/config.ts";
import {
  COMPATIBILITY_LEVELS,
  DEFAULT_COMPATIBILITY_LEVEL,
  DEFAULT_SEMVER_POLICY,
  SEMVER_POLICIES,
} from "../../domain/compatibility/index.ts";
import { DEFAULT_LIMITS } from "../../domain/limits.ts";
import { LOG_LEVELS } from "../../observability/logger.ts";
import {
  boolean,
  camelKeys,
  fromEnv,
  integer,
  KIB,
  list,
  MIB,
  relation,
  section,
  text,
  url,
} from "./rules.ts";

const POSTGRES_SCHEMES = ["postgres:", "postgresql:"] as const;
/** `pglite://memory` keeps the embedded database in memory; `pglite://<dir>` persists it there. */
const DATABASE_SCHEMES = [...POSTGRES_SCHEMES, "pglite:"] as const;

const HTTP_SCHEMES = ["https:", "http:"] as const;
/** An S3 endpoint goes to the SDK as it is, so it must also parse as a URL. */
const endpointUrl = v.pipe(url(HTTP_SCHEMES), v.url("expected a URL starting with https:// or http://"));

/** A host name or an IP address (IPv6 without brackets: `::`, `::1`). */
const hostRule = v.pipe(
  text("a host name or an IP address"),
  v.regex(/^[A-Za-z0-9.:%_-]+$/, "expected a host name or an IP address, such as 127.0.0.1, 0.0.0.0 or ::"),
);

const serverSection = section({
  /**
   * The interface the server listens on; default: every interface (0.0.0.0)
   * with a PostgreSQL server, 127.0.0.1 with the embedded database (resolved
   * by `listenHost` below).
   */
  host: fromEnv("HOST", v.optional(hostRule)),
  /** The HTTP port. */
  port: fromEnv("PORT", v.optional(integer(1, 65535), 8080)),
  /**
   * Every request is answered within this long, whatever PostgreSQL, Redis or
   * S3 do: past it, 503 `unavailable` (reason `timeout`, Retry-After). A write
   * answered so was not applied, unless its last statement had already
   * committed (retrying a register of the same content is then harmless).
   */
  request_timeout_ms: fromEnv("REQUEST_TIMEOUT_MS", v.optional(integer(100, 600_000), 10_000)),
  /** The least severe level that is logged. */
  log_level: fromEnv(
    "LOG_LEVEL",
    v.optional(v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`), "info"),
  ),
});

/**
 * The interface to listen on: as configured, else every interface for a
 * PostgreSQL server (DATABASE_URL: a deployment, which runs in a container
 * or behind a load balancer, and where authentication is on by default) and
 * loopback only for the embedded database (a laptop, where the registry is
 * open to anyone who reaches it).
 */
export function listenHost(config: {
  server: { host?: string };
  storage: { databaseUrl: string | null };
}): string {
  if (config.server.host !== undefined) return config.server.host;
  const url = config.storage.databaseUrl;
  return url !== null && !url.toLowerCase().startsWith("pglite:") ? "0.0.0.0" : "127.0.0.1";
}

const poolSection = v.pipe(
  v.strictObject({
    /** The pool's size, per database (primary and each replica). */
    max_connections: fromEnv("DATABASE_MAX_CONNECTIONS", v.optional(integer(1, 10_000), 50)),
    /** Connections opened at start-up and kept; 0 opens them on demand. */
    min_connections: fromEnv("DATABASE_MIN_CONNECTIONS", v.optional(integer(0, 10_000), 0)),
    /** A connection idle this long is closed. */
    idle_timeout_seconds: v.optional(integer(0, 86_400), 600),
    /** A connection is replaced after this long, so the pool follows DNS and failovers. */
    max_lifetime_seconds: v.optional(integer(0, 604_800), 1800),
    /** Connecting, and waiting for a free connection, give up after this long. */
    connect_timeout_seconds: v.optional(integer(1, 600), 3),
    /** Every statement is cancelled after this long. */
    statement_timeout_ms: v.optional(integer(1, 3_600_000), 3000),
    /**
     * A pool of its own for searches (on a server, without read replicas), so
     * they can never hold the connections point reads and writes need;
     * default: admission.search_concurrency; 0 shares the main pool.
     */
    search_max_connections: fromEnv("DATABASE_SEARCH_MAX_CONNECTIONS", v.optional(integer(0, 10_000))),
  }),
  relation(
    "min_connections",
    "max_connections",
    (pool) => pool.min_connections <= pool.max_connections,
    (pool) => `must not exceed max_connections (${pool.max_connections})`,
  ),
  v.transform(camelKeys),
);

/** `host:port` (`[v6 address]:port` for IPv6), as redis_sentinels and redis_cluster_nodes list them. */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/;
const hostPort = v.pipe(
  v.string(),
  v.trim(),
  v.check((entry) => {
    const port = Number(HOST_PORT.exec(entry)?.[3]);
    return port >= 1 && port <= 65535;
  }, "expected host:port entries, e.g. 10.0.0.5:26379 or [fd00::5]:26379"),
);
const redisEndpoints = (entries: string[]) =>
  entries.map((entry) => {
    const [, v6, host, port] = HOST_PORT.exec(entry)!;
    return { host: (v6 ?? host)!, port: Number(port) };
  });
/** Passwords are taken exactly as given: no trimming. */
const secret = v.pipe(v.string("expected a password"), v.minLength(1, "expected a non-empty password"));

interface RemoteCacheSettings {
  redisUrl?: string | undefined;
  redisSentinels?: string[] | undefined;
  redisSentinelMaster?: string | undefined;
  redisSentinelPassword?: string | undefined;
  redisClusterNodes?: string[] | undefined;
  redisUsername?: string | undefined;
  redisPassword?: string | undefined;
  upstashUrl?: string | undefined;
  upstashToken?: string | undefined;
}

/** L2's driver, chosen by which of the four ways to reach Redis is set (the schema allows one); null: no L2. */
function remoteCache(cache: RemoteCacheSettings) {
  const credentials = {
    ...(cache.redisUsername !== undefined ? { username: cache.redisUsername } : {}),
    ...(cache.redisPassword !== undefined ? { password: cache.redisPassword } : {}),
  };
  if (cache.redisUrl) return { kind: "tcp" as const, url: cache.redisUrl };
  if (cache.redisSentinels?.length && cache.redisSentinelMaster)
    return {
      kind: "sentinel" as const,
      sentinels: redisEndpoints(cache.redisSentinels),
      master: cache.redisSentinelMaster,
      ...(cache.redisSentinelPassword !== undefined ? { sentinelPassword: cache.redisSentinelPassword } : {}),
      ...credentials,
    };
  if (cache.redisClusterNodes?.length)
    return { kind: "cluster" as const, nodes: redisEndpoints(cache.redisClusterNodes), ...credentials };
  if (cache.upstashUrl && cache.upstashToken)
    return { kind: "upstash" as const, url: cache.upstashUrl, token: cache.upstashToken };
  return null;
}

const L2_CHOICE =
  "set only one of redis_url (one server), redis_sentinels (Sentinel), redis_cluster_nodes (Cluster) and upstash_url (HTTP)";

const cacheSection = v.pipe(
  v.strictObject({
    /** Entries held in process; 0 turns L1 off. */
    l1_max_entries: fromEnv("CACHE_L1_MAX_ENTRIES", v.optional(integer(0, 10_000_000), 10_000)),
    /** Bytes held in process, so large content cannot push out many small schemas. */
    l1_max_bytes: fromEnv("CACHE_L1_MAX_BYTES", v.optional(integer(0, 64 * 1024 * MIB), 256 * MIB)),
    /** An L1 entry lives at most this long. */
    l1_ttl_seconds: fromEnv("CACHE_L1_TTL_SECONDS", v.optional(integer(1, 604_800), 3600)),
    /** An L1 entry not read for this long expires; default half of l1_ttl_seconds. */
    l1_idle_seconds: fromEnv("CACHE_L1_IDLE_SECONDS", v.optional(integer(1, 604_800))),
    /** L2 over TCP (ioredis), one server; credentials go in the URL. */
    redis_url: fromEnv("REDIS_URL", v.optional(url(["redis:", "rediss:"]))),
    /** L2 on the primary a Sentinel group names (host:port of the sentinels); needs redis_sentinel_master. */
    redis_sentinels: fromEnv("REDIS_SENTINELS", v.optional(list(hostPort))),
    /** The name the sentinels monitor the primary under. */
    redis_sentinel_master: fromEnv("REDIS_SENTINEL_MASTER", v.optional(text("a master name"))),
    /** The sentinels' own password (their requirepass), when they have one. */
    redis_sentinel_password: fromEnv("REDIS_SENTINEL_PASSWORD", v.optional(secret)),
    /** L2 on a Redis Cluster: host:port of some of its nodes (the rest are discovered). */
    redis_cluster_nodes: fromEnv("REDIS_CLUSTER_NODES", v.optional(list(hostPort))),
    /** ACL user of the data nodes, with redis_sentinels or redis_cluster_nodes. */
    redis_username: fromEnv("REDIS_USERNAME", v.optional(text("a user name"))),
    /** Password of the data nodes, with redis_sentinels or redis_cluster_nodes. */
    redis_password: fromEnv("REDIS_PASSWORD", v.optional(secret)),
    /** L2 over HTTP (@upstash/redis); needs upstash_token. */
    upstash_url: fromEnv("UPSTASH_REDIS_REST_URL", v.optional(url(HTTP_SCHEMES))),
    upstash_token: fromEnv("UPSTASH_REDIS_REST_TOKEN", v.optional(text("a token"))),
    /** An L2 entry lives at most this long. */
    redis_ttl_seconds: fromEnv("REDIS_TTL_SECONDS", v.optional(integer(1, 2_592_000), 3600)),
    /** Load the most read schemas into the caches at start-up. */
    warm_on_startup: fromEnv("CACHE_WARM_ON_STARTUP", v.optional(boolean, true)),
    /** How many schemas the warm-up loads. */
    warm_size: fromEnv("CACHE_WARM_SIZE", v.optional(integer(0, 1_000_000), 100)),
  }),
  relation(
    "upstash_token",
    "upstash_url",
    (cache) => !cache.upstash_url || cache.upstash_token !== undefined,
    "required when upstash_url is set",
  ),
  relation(
    "upstash_url",
    "upstash_token",
    (cache) => !cache.upstash_token || cache.upstash_url !== undefined,
    "required when upstash_token is set",
  ),
  relation(
    "upstash_url",
    "redis_url",
    (cache) => !(cache.redis_url && cache.upstash_url),
    "set either redis_url (TCP) or upstash_url (HTTP), not both",
  ),
  relation(
    "redis_sentinels",
    "redis_url",
    (cache) =>
      !cache.redis_sentinels?.length ||
      !(cache.redis_url || cache.upstash_url || cache.redis_cluster_nodes?.length),
    L2_CHOICE,
  ),
  relation(
    "redis_cluster_nodes",
    "redis_url",
    (cache) => !cache.redis_cluster_nodes?.length || !(cache.redis_url || cache.upstash_url),
    L2_CHOICE,
  ),
  relation(
    "redis_sentinel_master",
    "redis_sentinels",
    (cache) => !cache.redis_sentinels?.length || cache.redis_sentinel_master !== undefined,
    "required when redis_sentinels is set",
  ),
  relation(
    "redis_sentinels",
    "redis_sentinel_master",
    (cache) => cache.redis_sentinel_master === undefined || (cache.redis_sentinels?.length ?? 0) > 0,
    "required when redis_sentinel_master is set",
  ),
  relation(
    "redis_sentinel_password",
    "redis_sentinels",
    (cache) => cache.redis_sentinel_password === undefined || (cache.redis_sentinels?.length ?? 0) > 0,
    "applies only with redis_sentinels",
  ),
  relation(
    "redis_password",
    "redis_url",
    (cache) =>
      cache.redis_password === undefined ||
      !!(cache.redis_sentinels?.length || cache.redis_cluster_nodes?.length),
    "applies only with redis_sentinels or redis_cluster_nodes; with redis_url, put it in the URL (redis://:password@host:6379)",
  ),
  relation(
    "redis_username",
    "redis_url",
    (cache) =>
      cache.redis_username === undefined ||
      !!(cache.redis_sentinels?.length || cache.redis_cluster_nodes?.length),
    "applies only with redis_sentinels or redis_cluster_nodes; with redis_url, put it in the URL (redis://user:password@host:6379)",
  ),
  v.transform(camelKeys),
  v.transform(
    ({
      redisUrl,
      redisSentinels,
      redisSentinelMaster,
      redisSentinelPassword,
      redisClusterNodes,
      redisUsername,
      redisPassword,
      upstashUrl,
      upstashToken,
      ...cache
    }) => ({
      ...cache,
      l1IdleSeconds: cache.l1IdleSeconds ?? Math.max(1, Math.floor(cache.l1TtlSeconds / 2)),
      redis: remoteCache({
        redisUrl,
        redisSentinels,
        redisSentinelMaster,
        redisSentinelPassword,
        redisClusterNodes,
        redisUsername,
        redisPassword,
        upstashUrl,
        upstashToken,
      }),
    }),
  ),
);

/**
 * The object store. The settings without a variable are the finer ones an
 * operator rarely needs; they are here so that every default lives in one
 * place. Credentials are not settings on purpose: the SDK's default chain
 * reads the standard AWS variables (AWS_ACCESS_KEY_ID, …, profiles, roles).
 */
export const s3Settings = v.pipe(
  v.strictObject({
    /** Large content goes to this bucket; without it all content stays inline. */
    bucket: fromEnv(
      "S3_BUCKET",
      v.optional(
        v.pipe(text("a bucket name"), v.minLength(3, "expected a bucket name of 3 characters or more")),
      ),
    ),
    region: fromEnv("S3_REGION", v.optional(text("a region"), "us-east-1")),
    /**
     * Every object of the registry lives under this prefix (object keys are
     * prefix + content hash), and the sweep never looks outside it; a
     * non-empty prefix is given its trailing `/`.
     */
    prefix: fromEnv(
      "S3_PREFIX",
      v.optional(
        v.pipe(
          v.string("expected a string"),
          v.check((prefix) => !prefix.startsWith("/"), "expected a prefix that does not start with /"),
          v.transform((prefix) => (prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`)),
        ),
        "schemas/",
      ),
    ),
    /** Content of this size or more goes to the bucket. */
    min_size_bytes: fromEnv("S3_MIN_SIZE_BYTES", v.optional(integer(0, 1024 * 1024 * MIB), MIB)),
    /** An S3-compatible server (MinIO, s3rver, R2); null: AWS. */
    endpoint: fromEnv("S3_ENDPOINT", v.nullish(endpointUrl, null)),
    /** Bucket in the path rather than the host name, as MinIO and s3rver want. */
    force_path_style: fromEnv("S3_FORCE_PATH_STYLE", v.optional(boolean, false)),
    /** Lifetime of presigned GET URLs; S3 allows at most seven days. */
    presign_expiry_seconds: fromEnv(
      "S3_PRESIGN_EXPIRY_SECONDS",
      v.optional(integer(1, MAX_PRESIGN_SECONDS), 3600),
    ),
    /**
     * The endpoint presigned URLs name, when clients reach the store at
     * another address than the server does (MinIO inside compose); null: `endpoint`.
     */
    public_endpoint: fromEnv("S3_PUBLIC_ENDPOINT", v.nullish(endpointUrl, null)),
    /** Lifetime of a direct-upload URL; an upload never registered is swept after it. */
    upload_expiry_seconds: fromEnv(
      "S3_UPLOAD_EXPIRY_SECONDS",
      v.optional(integer(1, MAX_PRESIGN_SECONDS), 3600),
    ),
    /**
     * How often the server removes orphaned objects and expired uploads (each
     * instance, with jitter); 0 turns the in-server sweep off
     * (scripts/s3-sweep.ts does the same job on demand).
     */
    sweep_interval_seconds: fromEnv("S3_SWEEP_INTERVAL_SECONDS", v.optional(integer(0, 604_800), 3600)),
    /**
     * An unreferenced object younger than this is kept, since its row may not
     * be committed yet. At least 15 minutes, to stay above refresh_after_ms.
     */
    sweep_grace_seconds: fromEnv("S3_SWEEP_GRACE_SECONDS", v.optional(integer(900, 604_800), 3600)),
    /**
     * An existing object older than this is written again when the same
     * content is registered, so that the sweep's grace period (which must be
     * longer) protects it while its new row is being committed.
     */
    refresh_after_ms: v.optional(integer(0, 604_800_000), 10 * 60 * 1000),
    /** One PutObject up to this size, multipart above it; S3 refuses parts below 5 MiB. */
    part_size_bytes: v.optional(integer(MIN_PART_SIZE_BYTES, 5 * 1024 * MIB), 8 * MIB),
    /** Parts in flight at once during a multipart upload. */
    part_concurrency: v.optional(integer(1, 16), 4),
    connect_timeout_ms: v.optional(integer(1, 3_600_000), 2000),
    /** A socket that sends or receives nothing for this long fails the request. */
    idle_timeout_ms: v.optional(integer(1, 3_600_000), 5000),
    /** Upper bound on a whole request, large bodies included. */
    request_timeout_ms: v.optional(integer(1, 3_600_000), 30_000),
    /** Attempts per request, the first included: failing fast beats queueing behind a dead store. */
    max_attempts: v.optional(integer(1, 10), 2),
  }),
  relation(
    "refresh_after_ms",
    "sweep_grace_seconds",
    (s3) => s3.refresh_after_ms < s3.sweep_grace_seconds * 1000,
    (s3) => `must be shorter than sweep_grace_seconds (${s3.sweep_grace_seconds} s)`,
  ),
  v.transform(camelKeys),
);

/** null without a bucket: no object store, all content stays inline. */
const s3Section = v.pipe(
  s3Settings,
  v.transform(({ bucket, ...s3 }) => (bucket === undefined ? null : { bucket, ...s3 })),
);

const storageSection = section({
  /** The primary; null means the embedded PGlite persisted under data_dir. */
  database_url: fromEnv("DATABASE_URL", v.nullish(url(DATABASE_SCHEMES), null)),
  /** Read replicas; reads go there, writes and read-your-writes to the primary. */
  read_urls: fromEnv("DATABASE_READ_URLS", v.optional(list(url(POSTGRES_SCHEMES)), [])),
  /** Apply pending migrations at start-up. */
  migrate_on_start: fromEnv("DATABASE_MIGRATE_ON_START", v.optional(boolean, true)),
  /** Where the embedded database lives. */
  data_dir: fromEnv("DATA_DIR", v.optional(text("a directory"), "./data")),
  /** The largest content accepted, in canonical form. */
  max_schema_bytes: fromEnv(
    "MAX_SCHEMA_BYTES",
    v.optional(integer(1, 1024 * MIB), DEFAULT_LIMITS.maxSchemaBytes),
  ),
  pool: v.optional(poolSection, {}),
  cache: v.optional(cacheSection, {}),
  s3: v.optional(s3Section, {}),
});

/**
 * Limits other than the content size (which is `storage.max_schema_bytes`).
 * Absent keys keep the defaults of `domain/limits.ts`, where they are declared.
 */
const limitsSection = section({
  max_subject_length: v.optional(integer(1, 1024)),
  max_tags: v.optional(integer(0, 1000)),
  max_tag_length: v.optional(integer(1, 1024)),
  max_description_length: v.optional(integer(0, 1024 * KIB)),
  max_metadata_bytes: v.optional(integer(0, 16 * MIB)),
});

/**
 * Schema evolution's defaults: what a subject follows when neither it nor the
 * global settings (set over the API, kept in the database) say otherwise.
 */
const compatibilitySection = section({
  /** The compatibility level registers are checked at. */
  level: fromEnv(
    "COMPATIBILITY_LEVEL",
    v.optional(
      v.picklist(COMPATIBILITY_LEVELS, `expected one of ${COMPATIBILITY_LEVELS.join(", ")}`),
      DEFAULT_COMPATIBILITY_LEVEL,
    ),
  ),
  /** Whether an explicit version must follow from the change (enforce) or may be any free one (advise). */
  semver_policy: fromEnv(
    "SEMVER_POLICY",
    v.optional(
      v.picklist(SEMVER_POLICIES, `expected one of ${SEMVER_POLICIES.join(", ")}`),
      DEFAULT_SEMVER_POLICY,
    ),
  ),
});

/**
 * Admission bounds per class of request (registry/admission.ts): how many
 * searches and lists (those the query cache does not answer), and how many
 * writes, run against the database at once, and how many wait. Absent
 * concurrencies and queues follow the pool size (see defaultAdmission); a
 * concurrency of 0 leaves the class unbounded.
 */
const admissionSection = section({
  /** Searches, subject and version lists and stats running at once; default pool / 6, 1 to 4. */
  search_concurrency: fromEnv("SEARCH_CONCURRENCY", v.optional(integer(0, 10_000))),
  /** Searches waiting for a slot; beyond it 503 at once. Default 32 × search_concurrency. */
  search_queue: fromEnv("SEARCH_QUEUE", v.optional(integer(0, 1_000_000))),
  /** Registers, state changes and deletes running at once; default pool / 2. */
  write_concurrency: fromEnv("WRITE_CONCURRENCY", v.optional(integer(0, 10_000))),
  /** Writes waiting for a slot; default 32 × write_concurrency. */
  write_queue: fromEnv("WRITE_QUEUE", v.optional(integer(0, 1_000_000))),
  /** A request waiting longer than this for its slot is refused (503, Retry-After in whole seconds). */
  queue_timeout_ms: fromEnv("QUEUE_TIMEOUT_MS", v.optional(integer(1, 600_000), 1000)),
});

/**
 * Who may call the registry (src/http/auth/). `required` unset follows the
 * database: on for a PostgreSQL server (DATABASE_URL), off for the embedded
 * database, which then warns loudly at start-up that the registry is open
 * (resolved by `authRequired` below).
 */
const authSection = v.pipe(
  v.strictObject({
    /** Refuse callers without credentials; default: true with a PostgreSQL server, false embedded. */
    required: fromEnv("AUTH_REQUIRED", v.optional(boolean)),
    /**
     * An admin key accepted only while no API key exists, to create the first
     * one; at least 32 characters, and best random (`openssl rand -base64 32`).
     */
    bootstrap_admin_key: fromEnv(
      "AUTH_BOOTSTRAP_ADMIN_KEY",
      v.optional(
        v.pipe(text("a key"), v.minLength(32, "expected a key of 32 characters or more (make it random)")),
      ),
    ),
    /** Verified keys and tokens are remembered in process this long; revocations reach every instance at once. */
    key_cache_seconds: fromEnv("AUTH_KEY_CACHE_SECONDS", v.optional(integer(0, 3600), 30)),
    /** JWTs are accepted when set: the JSON Web Key Set their signatures are checked against. */
    jwt_jwks_url: fromEnv("AUTH_JWT_JWKS_URL", v.optional(url(HTTP_SCHEMES))),
    /** The `iss` every accepted token must carry; required with jwt_jwks_url. */
    jwt_issuer: fromEnv("AUTH_JWT_ISSUER", v.optional(text("an issuer"))),
    /** The `aud` every accepted token must name; required with jwt_jwks_url. */
    jwt_audience: fromEnv("AUTH_JWT_AUDIENCE", v.optional(text("an audience"))),
    /** The claim holding the caller's role: reader, writer or admin. */
    jwt_role_claim: fromEnv("AUTH_JWT_ROLE_CLAIM", v.optional(text("a claim name"), "role")),
    /** The claim holding the subject prefixes the caller is limited to (absent: every subject). */
    jwt_subjects_claim: fromEnv("AUTH_JWT_SUBJECTS_CLAIM", v.optional(text("a claim name"), "subjects")),
    /** `/metrics` answers without credentials; false asks for a key (any role). */
    metrics_public: fromEnv("METRICS_PUBLIC", v.optional(boolean, true)),
  }),
  relation(
    "jwt_issuer",
    "jwt_jwks_url",
    (auth) => !auth.jwt_jwks_url || auth.jwt_issuer !== undefined,
    "required when jwt_jwks_url is set",
  ),
  relation(
    "jwt_audience",
    "jwt_jwks_url",
    (auth) => !auth.jwt_jwks_url || auth.jwt_audience !== undefined,
    "required when jwt_jwks_url is set",
  ),
  v.transform(camelKeys),
);

/** The audit log (storage/postgres/audit-store.ts): how long its entries are kept. */
const auditSection = section({
  /** Entries older than this many days are deleted; 0 keeps them forever. */
  retention_days: fromEnv("AUDIT_RETENTION_DAYS", v.optional(integer(0, 36_500), 365)),
  /** How often each instance deletes the entries past the retention (instances share the work). */
  prune_interval_seconds: v.optional(integer(1, 604_800), 3600),
});

/** A bucket's limit from a rate and a burst; null (not limited) for a rate of 0. */
function bucketLimit(perSecond: number, burst: number | undefined) {
  return perSecond <= 0 ? null : { perSecond, burst: burst ?? 2 * perSecond };
}

/**
 * Rate limits per caller (http/rate-limit.ts): a token bucket per API key,
 * JWT subject or, for anonymous callers, client address; held in Redis when
 * L2 has one (every instance draws on the same bucket), in process otherwise.
 * Off by default, embedded or not: the right figure depends on the clients
 * (a fleet of serializers behind one key, a CI job), and a limit set too low
 * is an outage; an operator who exposes the registry sets one.
 */
const rateLimitSection = v.pipe(
  v.strictObject({
    /** Reads (GET, HEAD) a caller may make per second, on average; 0: reads are not limited. */
    per_second: fromEnv("RATE_LIMIT_PER_SECOND", v.optional(integer(0, 1_000_000), 0)),
    /** Reads a caller may make at once after a quiet spell; default 2 × per_second. */
    burst: fromEnv("RATE_LIMIT_BURST", v.optional(integer(1, 100_000_000))),
    /** Writes (every other method) a caller may make per second; default per_second; 0: not limited. */
    write_per_second: fromEnv("RATE_LIMIT_WRITE_PER_SECOND", v.optional(integer(0, 1_000_000))),
    /** Writes at once after a quiet spell; default 2 × write_per_second. */
    write_burst: fromEnv("RATE_LIMIT_WRITE_BURST", v.optional(integer(1, 100_000_000))),
    /**
     * Proxies in front of the registry that append the client's address to
     * X-Forwarded-For; 0 ignores the header (a client could name any address).
     */
    trust_proxy: fromEnv("TRUST_PROXY", v.optional(integer(0, 10), 0)),
  }),
  v.transform((limits) => ({
    read: bucketLimit(limits.per_second, limits.burst),
    write: bucketLimit(limits.write_per_second ?? limits.per_second, limits.write_burst),
    trustProxy: limits.trust_proxy,
  })),
);

/** What a TOML file (and the environment folded into it) may hold, and what the code reads of it. */
export const ConfigSchema = v.strictObject({
  server: v.optional(serverSection, {}),
  storage: v.optional(storageSection, {}),
  admission: v.optional(admissionSection, {}),
  compatibility: v.optional(compatibilitySection, {}),
  limits: v.optional(limitsSection, {}),
  audit: v.optional(auditSection, {}),
  rate_limit: v.optional(rateLimitSection, {}),
  auth: v.optional(authSection, {}),
});

export type Config = v.InferOutput<typeof ConfigSchema>;
export type CacheConfig = Config["storage"]["cache"];
export type AdmissionConfig = Config["admission"];
export type AuthConfig = Config["auth"];

/** Whether callers need credentials: as configured, else on for a PostgreSQL server and off embedded. */
export function authRequired(config: Config): boolean {
  if (config.auth.required !== undefined) return config.auth.required;
  const url = config.storage.databaseUrl;
  return url !== null && !url.toLowerCase().startsWith("pglite:");
}
