/**
 * Configuration: defaults, the TOML file, the environment's precedence over
 * it, and the messages a bad value stops start-up with.
 */
import { describe, expect, test } from "bun:test";
import { ENV_BINDINGS } from "../../src/app/config/environment.ts";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";

const files = (content: Record<string, string>) => (path: string) => {
  const text = content[path];
  if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
  return text;
};

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  test("an empty environment gives the documented defaults", async () => {
    const config = await loadConfig({ env: {} });
    expect(config.server).toEqual({ port: 8080, logLevel: "info", requestTimeoutMs: 10_000 });
    expect(config.storage.databaseUrl).toBeNull();
    expect(config.storage.readUrls).toEqual([]);
    expect(config.storage.migrateOnStart).toBe(true);
    expect(config.storage.dataDir).toBe("./data");
    expect(config.storage.maxSchemaBytes).toBe(16 * 1024 * 1024);
    expect(config.storage.pool).toEqual({
      maxConnections: 50,
      minConnections: 0,
      idleTimeoutSeconds: 600,
      maxLifetimeSeconds: 1800,
      connectTimeoutSeconds: 3,
      statementTimeoutMs: 3000,
    });
    expect(config.storage.cache).toMatchObject({
      l1MaxEntries: 10000,
      l1TtlSeconds: 3600,
      l1IdleSeconds: 1800,
      redis: null,
      redisTtlSeconds: 3600,
      warmOnStartup: true,
      warmSize: 100,
    });
    expect(config.storage.s3).toBeNull();
    expect(config.limits).toEqual({});
    // Absent bounds follow the pool's size (create-registry.ts); only the wait has a default of its own.
    expect(config.admission).toEqual({ queueTimeoutMs: 1000 });
  });

  test("S3 settings take their defaults once a bucket is named", async () => {
    const config = await loadConfig({ env: { S3_BUCKET: "schemas" } });
    expect(config.storage.s3).toEqual({
      bucket: "schemas",
      region: "us-east-1",
      prefix: "schemas/",
      minSizeBytes: 1048576,
      endpoint: null,
      forcePathStyle: false,
      presignExpirySeconds: 3600,
      publicEndpoint: null,
      uploadExpirySeconds: 3600,
      sweepIntervalSeconds: 3600,
      sweepGraceSeconds: 3600,
      // The finer settings, which have no environment variable.
      refreshAfterMs: 600_000,
      partSizeBytes: 8 * 1024 * 1024,
      partConcurrency: 4,
      connectTimeoutMs: 2000,
      idleTimeoutMs: 5000,
      requestTimeoutMs: 30_000,
      maxAttempts: 2,
    });
  });
});

describe("the settings table", () => {
  test("every environment variable is declared on the key it sets", () => {
    expect(ENV_BINDINGS).toEqual({
      PORT: "server.port",
      LOG_LEVEL: "server.log_level",
      REQUEST_TIMEOUT_MS: "server.request_timeout_ms",
      SEARCH_CONCURRENCY: "admission.search_concurrency",
      SEARCH_QUEUE: "admission.search_queue",
      WRITE_CONCURRENCY: "admission.write_concurrency",
      WRITE_QUEUE: "admission.write_queue",
      QUEUE_TIMEOUT_MS: "admission.queue_timeout_ms",
      DATABASE_SEARCH_MAX_CONNECTIONS: "storage.pool.search_max_connections",
      DATABASE_URL: "storage.database_url",
      DATABASE_READ_URLS: "storage.read_urls",
      DATABASE_MIGRATE_ON_START: "storage.migrate_on_start",
      DATA_DIR: "storage.data_dir",
      MAX_SCHEMA_BYTES: "storage.max_schema_bytes",
      COMPATIBILITY_LEVEL: "compatibility.level",
      SEMVER_POLICY: "compatibility.semver_policy",
      DATABASE_MAX_CONNECTIONS: "storage.pool.max_connections",
      DATABASE_MIN_CONNECTIONS: "storage.pool.min_connections",
      CACHE_L1_MAX_ENTRIES: "storage.cache.l1_max_entries",
      CACHE_L1_MAX_BYTES: "storage.cache.l1_max_bytes",
      CACHE_L1_TTL_SECONDS: "storage.cache.l1_ttl_seconds",
      CACHE_L1_IDLE_SECONDS: "storage.cache.l1_idle_seconds",
      REDIS_URL: "storage.cache.redis_url",
      REDIS_SENTINELS: "storage.cache.redis_sentinels",
      REDIS_SENTINEL_MASTER: "storage.cache.redis_sentinel_master",
      REDIS_SENTINEL_PASSWORD: "storage.cache.redis_sentinel_password",
      REDIS_CLUSTER_NODES: "storage.cache.redis_cluster_nodes",
      REDIS_USERNAME: "storage.cache.redis_username",
      REDIS_PASSWORD: "storage.cache.redis_password",
      UPSTASH_REDIS_REST_URL: "storage.cache.upstash_url",
      UPSTASH_REDIS_REST_TOKEN: "storage.cache.upstash_token",
      REDIS_TTL_SECONDS: "storage.cache.redis_ttl_seconds",
      CACHE_WARM_ON_STARTUP: "storage.cache.warm_on_startup",
      CACHE_WARM_SIZE: "storage.cache.warm_size",
      S3_BUCKET: "storage.s3.bucket",
      S3_REGION: "storage.s3.region",
      S3_PREFIX: "storage.s3.prefix",
      S3_MIN_SIZE_BYTES: "storage.s3.min_size_bytes",
      S3_ENDPOINT: "storage.s3.endpoint",
      S3_FORCE_PATH_STYLE: "storage.s3.force_path_style",
      S3_PRESIGN_EXPIRY_SECONDS: "storage.s3.presign_expiry_seconds",
      S3_PUBLIC_ENDPOINT: "storage.s3.public_endpoint",
      S3_UPLOAD_EXPIRY_SECONDS: "storage.s3.upload_expiry_seconds",
      S3_SWEEP_INTERVAL_SECONDS: "storage.s3.sweep_interval_seconds",
      S3_SWEEP_GRACE_SECONDS: "storage.s3.sweep_grace_seconds",
      HOST: "server.host",
      AUDIT_RETENTION_DAYS: "audit.retention_days",
      RATE_LIMIT_PER_SECOND: "rate_limit.per_second",
      RATE_LIMIT_BURST: "rate_limit.burst",
      RATE_LIMIT_WRITE_PER_SECOND: "rate_limit.write_per_second",
      RATE_LIMIT_WRITE_BURST: "rate_limit.write_burst",
      TRUST_PROXY: "rate_limit.trust_proxy",
      AUTH_REQUIRED: "auth.required",
      AUTH_BOOTSTRAP_ADMIN_KEY: "auth.bootstrap_admin_key",
      AUTH_KEY_CACHE_SECONDS: "auth.key_cache_seconds",
      AUTH_JWT_JWKS_URL: "auth.jwt_jwks_url",
      AUTH_JWT_ISSUER: "auth.jwt_issuer",
      AUTH_JWT_AUDIENCE: "auth.jwt_audience",
      AUTH_JWT_ROLE_CLAIM: "auth.jwt_role_claim",
      AUTH_JWT_SUBJECTS_CLAIM: "auth.jwt_subjects_claim",
      METRICS_PUBLIC: "auth.metrics_public",
    });
  });
});

describe("sources and precedence", () => {
  const toml = `
[server]
port = 9000
log_level = "warn"
request_timeout_ms = 4000

[storage]
database_url = "postgres://file-host/db"
read_urls = ["postgres://replica-1/db", "postgres://replica-2/db"]
migrate_on_start = false
max_schema_bytes = 2048

[storage.pool]
max_connections = 20
min_connections = 2
statement_timeout_ms = 1500

[storage.cache]
l1_max_entries = 500
l1_ttl_seconds = 100
redis_url = "redis://127.0.0.1:6379/2"
warm_on_startup = false

[storage.s3]
bucket = "from-file"
endpoint = "http://127.0.0.1:4569"
force_path_style = true
presign_expiry_seconds = 600

[limits]
max_tags = 10
`;

  test("every TOML section is read", async () => {
    const config = await loadConfig({
      env: { CONFIG_FILE: "/etc/registry.toml" },
      readFile: files({ "/etc/registry.toml": toml }),
    });
    expect(config.server).toEqual({ port: 9000, logLevel: "warn", requestTimeoutMs: 4000 });
    expect(config.storage.databaseUrl).toBe("postgres://file-host/db");
    expect(config.storage.readUrls).toEqual(["postgres://replica-1/db", "postgres://replica-2/db"]);
    expect(config.storage.migrateOnStart).toBe(false);
    expect(config.storage.maxSchemaBytes).toBe(2048);
    expect(config.storage.pool).toMatchObject({
      maxConnections: 20,
      minConnections: 2,
      statementTimeoutMs: 1500,
    });
    expect(config.storage.cache).toMatchObject({
      l1MaxEntries: 500,
      l1TtlSeconds: 100,
      l1IdleSeconds: 50,
      redis: { kind: "tcp", url: "redis://127.0.0.1:6379/2" },
      warmOnStartup: false,
    });
    expect(config.storage.s3).toMatchObject({
      bucket: "from-file",
      endpoint: "http://127.0.0.1:4569",
      forcePathStyle: true,
      presignExpirySeconds: 600,
    });
    expect(config.limits).toEqual({ maxTags: 10 });
  });

  test("the environment overrides the file, key by key", async () => {
    const config = await loadConfig({
      env: {
        CONFIG_FILE: "/etc/registry.toml",
        PORT: "7000",
        REQUEST_TIMEOUT_MS: "2500",
        DATABASE_URL: "postgresql://env-host/db",
        DATABASE_READ_URLS: "postgres://r1/db, postgres://r2/db,",
        DATABASE_MAX_CONNECTIONS: "8",
        DATABASE_MIGRATE_ON_START: "yes",
        S3_BUCKET: "from-env",
        CACHE_WARM_ON_STARTUP: "TRUE",
      },
      readFile: files({ "/etc/registry.toml": toml }),
    });
    expect(config.server).toEqual({ port: 7000, logLevel: "warn", requestTimeoutMs: 2500 });
    expect(config.storage.databaseUrl).toBe("postgresql://env-host/db");
    expect(config.storage.readUrls).toEqual(["postgres://r1/db", "postgres://r2/db"]);
    expect(config.storage.migrateOnStart).toBe(true);
    expect(config.storage.pool.maxConnections).toBe(8);
    expect(config.storage.pool.minConnections).toBe(2);
    expect(config.storage.cache.warmOnStartup).toBe(true);
    expect(config.storage.s3).toMatchObject({ bucket: "from-env", endpoint: "http://127.0.0.1:4569" });
  });

  test("--config on the command line wins over CONFIG_FILE", async () => {
    const read = files({ "/a.toml": "[server]\nport = 1111\n", "/b.toml": "[server]\nport = 2222\n" });
    expect(
      (await loadConfig({ env: { CONFIG_FILE: "/a.toml" }, argv: ["--config", "/b.toml"], readFile: read }))
        .server.port,
    ).toBe(2222);
    expect((await loadConfig({ env: {}, argv: ["--config=/a.toml"], readFile: read })).server.port).toBe(
      1111,
    );
  });

  test("an empty environment variable counts as unset", async () => {
    const config = await loadConfig({ env: { PORT: "", DATABASE_URL: "  " } });
    expect(config.server.port).toBe(8080);
    expect(config.storage.databaseUrl).toBeNull();
  });

  test("the finer S3 settings are read from the file", async () => {
    const config = await loadConfig({
      env: { CONFIG_FILE: "r.toml" },
      readFile: files({
        "r.toml": "[storage.s3]\nbucket = 'b-1'\npart_size_bytes = 16777216\nmax_attempts = 3\n",
      }),
    });
    expect(config.storage.s3).toMatchObject({
      partSizeBytes: 16 * 1024 * 1024,
      maxAttempts: 3,
      partConcurrency: 4,
    });
  });

  test("an S3 prefix is given its trailing slash", async () => {
    const config = await loadConfig({ env: { S3_BUCKET: "b-1", S3_PREFIX: "tenant-a/schemas" } });
    expect(config.storage.s3?.prefix).toBe("tenant-a/schemas/");
  });

  test("Upstash is chosen by its URL and token", async () => {
    const config = await loadConfig({
      env: { UPSTASH_REDIS_REST_URL: "https://eu1.upstash.io", UPSTASH_REDIS_REST_TOKEN: "secret" },
    });
    expect(config.storage.cache.redis).toEqual({
      kind: "upstash",
      url: "https://eu1.upstash.io",
      token: "secret",
    });
  });

  test("Sentinel and Cluster are chosen by their node lists, from the file or the environment", async () => {
    const sentinel = await loadConfig({
      env: { CONFIG_FILE: "r.toml", REDIS_PASSWORD: " data secret ", REDIS_SENTINEL_PASSWORD: "s" },
      readFile: files({
        "r.toml": `[storage.cache]
redis_sentinels = ["10.0.0.11:26379", " [fd00::5]:26380 "]
redis_sentinel_master = "registry"
redis_username = "cache"`,
      }),
    });
    expect(sentinel.storage.cache.redis).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.11", port: 26379 },
        { host: "fd00::5", port: 26380 },
      ],
      master: "registry",
      sentinelPassword: "s",
      username: "cache",
      // Passwords are kept exactly as given.
      password: " data secret ",
    });
    const cluster = await loadConfig({ env: { REDIS_CLUSTER_NODES: "redis-0:6379, redis-1:6379" } });
    expect(cluster.storage.cache.redis).toEqual({
      kind: "cluster",
      nodes: [
        { host: "redis-0", port: 6379 },
        { host: "redis-1", port: 6379 },
      ],
    });
  });

  test("Sentinel and Cluster settings that are missing, malformed or contradict each other", async () => {
    const message = async (env: Record<string, string>) => (await configError(loadConfig({ env }))).message;
    expect(await message({ REDIS_SENTINELS: "a:26379" })).toBe(
      "REDIS_SENTINEL_MASTER: required when redis_sentinels is set (not set; TOML key storage.cache.redis_sentinel_master)",
    );
    expect(await message({ REDIS_SENTINEL_MASTER: "m" })).toContain(
      "REDIS_SENTINELS: required when redis_sentinel_master is set",
    );
    expect(await message({ REDIS_CLUSTER_NODES: "a:6379,b" })).toContain(
      'REDIS_CLUSTER_NODES: expected host:port entries, e.g. 10.0.0.5:26379 or [fd00::5]:26379, got "b"',
    );
    expect(await message({ REDIS_CLUSTER_NODES: "a:65536" })).toContain("expected host:port entries");
    const oneOf = "set only one of redis_url (one server), redis_sentinels (Sentinel), redis_cluster_nodes";
    expect(
      await message({ REDIS_SENTINELS: "a:1", REDIS_SENTINEL_MASTER: "m", REDIS_URL: "redis://h" }),
    ).toContain(`REDIS_SENTINELS: ${oneOf}`);
    expect(
      await message({ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINELS: "a:1", REDIS_SENTINEL_MASTER: "m" }),
    ).toContain(`REDIS_SENTINELS: ${oneOf}`);
    expect(
      await message({
        REDIS_CLUSTER_NODES: "a:1",
        UPSTASH_REDIS_REST_URL: "https://x.io",
        UPSTASH_REDIS_REST_TOKEN: "t",
      }),
    ).toContain(`REDIS_CLUSTER_NODES: ${oneOf}`);
    expect(await message({ REDIS_URL: "redis://h", REDIS_PASSWORD: "x" })).toContain(
      "REDIS_PASSWORD: applies only with redis_sentinels or redis_cluster_nodes; with redis_url, put it in the URL",
    );
    expect(await message({ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINEL_PASSWORD: "x" })).toContain(
      "REDIS_SENTINEL_PASSWORD: applies only with redis_sentinels",
    );
  });
});

describe("bad values stop start-up with the setting and its source", () => {
  test("a port that is not a number, from the environment", async () => {
    const error = await configError(loadConfig({ env: { PORT: "abc" } }));
    expect(error.message).toBe('PORT: expected an integer from 1 to 65535, got "abc" (environment)');
    expect(error.setting).toBe("PORT");
  });

  test("a request deadline too short to answer anything", async () => {
    const error = await configError(loadConfig({ env: { REQUEST_TIMEOUT_MS: "50" } }));
    expect(error.message).toBe(
      'REQUEST_TIMEOUT_MS: expected an integer from 100 to 600000, got "50" (environment)',
    );
    expect(error.setting).toBe("REQUEST_TIMEOUT_MS");
  });

  test("a port out of range, from the file", async () => {
    const error = await configError(
      loadConfig({
        env: {},
        argv: ["--config", "r.toml"],
        readFile: files({ "r.toml": "[server]\nport = 70000" }),
      }),
    );
    expect(error.message).toBe(
      "server.port: expected an integer from 1 to 65535, got 70000 (config file r.toml)",
    );
  });

  test("a fraction where an integer belongs", async () => {
    const error = await configError(loadConfig({ env: { DATABASE_MAX_CONNECTIONS: "2.5" } }));
    expect(error.message).toContain("DATABASE_MAX_CONNECTIONS: expected an integer from 1 to 10000");
  });

  test("a word that is not a boolean", async () => {
    const error = await configError(loadConfig({ env: { S3_FORCE_PATH_STYLE: "maybe" } }));
    expect(error.message).toBe('S3_FORCE_PATH_STYLE: expected true or false, got "maybe" (environment)');
  });

  test("a TOML value of the wrong type", async () => {
    const error = await configError(
      loadConfig({
        env: { CONFIG_FILE: "r.toml" },
        readFile: files({ "r.toml": '[storage]\nmigrate_on_start = "sometimes"' }),
      }),
    );
    expect(error.message).toContain("storage.migrate_on_start: expected true or false");
    expect(error.source).toBe("config file r.toml");
  });

  test("a URL of the wrong scheme, without echoing its password", async () => {
    const error = await configError(loadConfig({ env: { DATABASE_URL: "mysql://user:hunter2@db/x" } }));
    expect(error.message).toContain(
      "DATABASE_URL: expected a URL starting with postgres:// or postgresql:// or pglite://",
    );
    expect(error.message).not.toContain("hunter2");
  });

  test("a bad item of a list", async () => {
    const error = await configError(
      loadConfig({ env: { DATABASE_READ_URLS: "postgres://ok/db,http://nope" } }),
    );
    expect(error.message).toContain("DATABASE_READ_URLS: expected a URL starting with postgres://");
    expect(error.message).toContain('"http://nope"');
  });

  test("an unknown log level", async () => {
    const error = await configError(loadConfig({ env: { LOG_LEVEL: "loud" } }));
    expect(error.message).toBe(
      'LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud" (environment)',
    );
  });

  test("an unknown TOML key is named", async () => {
    const error = await configError(
      loadConfig({
        env: { CONFIG_FILE: "r.toml" },
        readFile: files({ "r.toml": "[storage.pool]\nmax_conections = 5" }),
      }),
    );
    expect(error.message).toBe("storage.pool.max_conections: unknown setting (config file r.toml)");
  });

  test("an unknown TOML section is named", async () => {
    const error = await configError(
      loadConfig({
        env: { CONFIG_FILE: "r.toml" },
        readFile: files({ "r.toml": "[stroage]\ndatabase_url = 'x'" }),
      }),
    );
    expect(error.message).toBe("stroage: unknown setting (config file r.toml)");
  });

  test("a value where a section belongs", async () => {
    const error = await configError(
      loadConfig({ env: { CONFIG_FILE: "r.toml" }, readFile: files({ "r.toml": "storage = 5" }) }),
    );
    expect(error.message).toContain("storage: ");
    expect(error.source).toBe("config file r.toml");
  });

  test("a file that is not TOML", async () => {
    const error = await configError(
      loadConfig({ env: { CONFIG_FILE: "r.toml" }, readFile: files({ "r.toml": "[server\nport = 1" }) }),
    );
    expect(error.message).toStartWith("r.toml: not valid TOML:");
  });

  test("a file that cannot be read", async () => {
    const error = await configError(
      loadConfig({ env: { CONFIG_FILE: "/missing.toml" }, readFile: files({}) }),
    );
    expect(error.message).toContain("CONFIG_FILE: cannot read /missing.toml: ENOENT");
  });

  test("--config without a path", async () => {
    const error = await configError(loadConfig({ env: {}, argv: ["--config"] }));
    expect(error.setting).toBe("--config");
  });

  test("settings that contradict each other", async () => {
    const tooFew = await configError(
      loadConfig({ env: { DATABASE_MAX_CONNECTIONS: "4", DATABASE_MIN_CONNECTIONS: "5" } }),
    );
    expect(tooFew.message).toBe(
      "DATABASE_MIN_CONNECTIONS: must not exceed max_connections (4) (environment)",
    );
    const noToken = await configError(
      loadConfig({ env: { UPSTASH_REDIS_REST_URL: "https://x.upstash.io" } }),
    );
    expect(noToken.message).toContain("UPSTASH_REDIS_REST_TOKEN: required when upstash_url is set");
    const both = await configError(
      loadConfig({
        env: {
          REDIS_URL: "redis://h",
          UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
          UPSTASH_REDIS_REST_TOKEN: "t",
        },
      }),
    );
    expect(both.message).toContain("not both");
  });

  test("a bad value is reported before settings that contradict each other", async () => {
    const error = await configError(
      loadConfig({ env: { DATABASE_MAX_CONNECTIONS: "4", DATABASE_MIN_CONNECTIONS: "5", PORT: "abc" } }),
    );
    expect(error.setting).toBe("PORT");
  });

  test("S3 settings the object store would refuse", async () => {
    const shortBucket = await configError(loadConfig({ env: { S3_BUCKET: "ab" } }));
    expect(shortBucket.message).toBe(
      'S3_BUCKET: expected a bucket name of 3 characters or more, got "ab" (environment)',
    );
    const rooted = await configError(loadConfig({ env: { S3_BUCKET: "b-1", S3_PREFIX: "/abs" } }));
    expect(rooted.message).toBe(
      'S3_PREFIX: expected a prefix that does not start with /, got "/abs" (environment)',
    );
    const slowRefresh = await configError(
      loadConfig({
        env: { CONFIG_FILE: "r.toml" },
        readFile: files({
          "r.toml": "[storage.s3]\nbucket = 'b-1'\nsweep_grace_seconds = 900\nrefresh_after_ms = 900000\n",
        }),
      }),
    );
    expect(slowRefresh.message).toBe(
      "storage.s3.refresh_after_ms: must be shorter than sweep_grace_seconds (900 s) (config file r.toml)",
    );
  });

  test("a token is never echoed", async () => {
    const error = await configError(
      loadConfig({
        env: { CONFIG_FILE: "r.toml" },
        readFile: files({ "r.toml": "[storage.cache]\nupstash_token = 42" }),
      }),
    );
    expect(error.message).toContain("storage.cache.upstash_token");
    expect(error.message).toContain("(hidden)");
    expect(error.message).not.toContain("42");
  });
});

describe("audit retention and rate limits", () => {
  test("defaults: a year of audit entries, pruned hourly; no rate limit, no proxy trusted", async () => {
    const config = await loadConfig({ env: {} });
    expect(config.audit).toEqual({ retentionDays: 365, pruneIntervalSeconds: 3600 });
    expect(config.rate_limit).toEqual({ read: null, write: null, trustProxy: 0 });
  });

  test("a read rate limits writes alike unless they have their own; bursts default to twice the rate", async () => {
    const both = await loadConfig({ env: { RATE_LIMIT_PER_SECOND: "10" } });
    expect(both.rate_limit).toEqual({
      read: { perSecond: 10, burst: 20 },
      write: { perSecond: 10, burst: 20 },
      trustProxy: 0,
    });
    const own = await loadConfig({
      env: {
        RATE_LIMIT_PER_SECOND: "10",
        RATE_LIMIT_BURST: "15",
        RATE_LIMIT_WRITE_PER_SECOND: "0",
        TRUST_PROXY: "1",
      },
    });
    expect(own.rate_limit).toEqual({ read: { perSecond: 10, burst: 15 }, write: null, trustProxy: 1 });
    const writesOnly = await loadConfig({
      env: { RATE_LIMIT_WRITE_PER_SECOND: "2", RATE_LIMIT_WRITE_BURST: "5", AUDIT_RETENTION_DAYS: "0" },
    });
    expect(writesOnly.rate_limit.read).toBeNull();
    expect(writesOnly.rate_limit.write).toEqual({ perSecond: 2, burst: 5 });
    expect(writesOnly.audit.retentionDays).toBe(0);
  });

  test("a bad value names its setting", async () => {
    const rate = await configError(loadConfig({ env: { RATE_LIMIT_PER_SECOND: "-1" } }));
    expect(rate.message).toContain("RATE_LIMIT_PER_SECOND: expected an integer from 0 to 1000000");
    const days = await configError(loadConfig({ env: { AUDIT_RETENTION_DAYS: "a year" } }));
    expect(days.message).toContain("AUDIT_RETENTION_DAYS: expected an integer");
    const proxy = await configError(loadConfig({ env: { TRUST_PROXY: "true" } }));
    expect(proxy.message).toContain("TRUST_PROXY: expected an integer from 0 to 10");
  });
});
