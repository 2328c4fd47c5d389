/**
 * Which environment variable sets which configuration key. The environment
 * overrides the TOML file; the values are checked by the same rules as the
 * file's (config-schema.ts), so this table is only names.
 */

export const ENV_BINDINGS: Readonly<Record<string, string>> = {
  PORT: "server.port",
  LOG_LEVEL: "server.log_level",

  DATABASE_URL: "storage.database_url",
  DATABASE_READ_URLS: "storage.read_urls",
  DATABASE_MIGRATE_ON_START: "storage.migrate_on_start",
  DATA_DIR: "storage.data_dir",
  MAX_SCHEMA_BYTES: "storage.max_schema_bytes",
  DATABASE_MAX_CONNECTIONS: "storage.pool.max_connections",
  DATABASE_MIN_CONNECTIONS: "storage.pool.min_connections",

  CACHE_L1_MAX_ENTRIES: "storage.cache.l1_max_entries",
  CACHE_L1_MAX_BYTES: "storage.cache.l1_max_bytes",
  CACHE_L1_TTL_SECONDS: "storage.cache.l1_ttl_seconds",
  CACHE_L1_IDLE_SECONDS: "storage.cache.l1_idle_seconds",
  REDIS_URL: "storage.cache.redis_url",
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
};

/** Names the configuration file; `--config <path>` on the command line wins over it. */
export const CONFIG_FILE_ENV = "CONFIG_FILE";
