# The registry as a Worker on workerd (Cloudflare's open-source Workers runtime).
#
#   npx bun deploy/workerd/build.ts
#   DATABASE_URL=postgres://… UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… \
#     npx workerd serve -b deploy/workerd/dist/config.bin --socket-addr=http=127.0.0.1:8787 --experimental
#
# dist/config.bin is this file encoded with the modules inside (build.ts runs `workerd compile
# --config-only`): the same Worker, without parsing this text and reading each module at every start.
# `workerd serve deploy/workerd/config.capnp …` serves it from the text.
#
# The bundle (deploy/workerd/dist/, git-ignored) is embedded from its path beside this file: an entry
# module and the chunks it loads by import() (the schema engines, the S3 SDK, the HTTP app), which build.ts lists in
# dist/modules.capnp, imported here.
# postgres.js is bundled with the "workerd" condition: it then connects over cloudflare:sockets
# (build.ts says what else the bundle step does).
# Every setting is a text binding taken from the environment of the workerd process, named as the
# registry's environment variables (the README's settings table); an unset variable is no binding.
# UNSAFE_EVAL lets ajv and avsc compile validators while serving (deploy/workerd/worker.ts).
# new_module_registry (no default date: a Worker names it to get it): workerd compiles a module when it
# is first imported. Its default registry compiles every module listed at start-up, the chunks only
# import() loads included (the engines, the S3 SDK, the HTTP app): tens of ms of a cold start spent on
# code the first read never runs.
using Workerd = import "/workerd/workerd.capnp";
using Bundle = import "dist/modules.capnp";

const config :Workerd.Config = (
  services = [
    (name = "registry", worker = .registry),
    # Outbound fetch and sockets (Upstash, S3, PostgreSQL), private addresses included.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "registry")],
);

const registry :Workerd.Worker = (
  modules = Bundle.modules,
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat", "new_module_registry"],
  bindings = [
    (name = "UNSAFE_EVAL", unsafeEval = void),
    (name = "HOST", fromEnvironment = "HOST"),
    (name = "PORT", fromEnvironment = "PORT"),
    (name = "REQUEST_TIMEOUT_MS", fromEnvironment = "REQUEST_TIMEOUT_MS"),
    (name = "LOG_LEVEL", fromEnvironment = "LOG_LEVEL"),
    (name = "DATABASE_URL", fromEnvironment = "DATABASE_URL"),
    (name = "DATABASE_READ_URLS", fromEnvironment = "DATABASE_READ_URLS"),
    (name = "DATABASE_MIGRATE_ON_START", fromEnvironment = "DATABASE_MIGRATE_ON_START"),
    (name = "DATA_DIR", fromEnvironment = "DATA_DIR"),
    (name = "MAX_SCHEMA_BYTES", fromEnvironment = "MAX_SCHEMA_BYTES"),
    (name = "DATABASE_MAX_CONNECTIONS", fromEnvironment = "DATABASE_MAX_CONNECTIONS"),
    (name = "DATABASE_MIN_CONNECTIONS", fromEnvironment = "DATABASE_MIN_CONNECTIONS"),
    (name = "DATABASE_SEARCH_MAX_CONNECTIONS", fromEnvironment = "DATABASE_SEARCH_MAX_CONNECTIONS"),
    (name = "CACHE_L1_MAX_ENTRIES", fromEnvironment = "CACHE_L1_MAX_ENTRIES"),
    (name = "CACHE_L1_MAX_BYTES", fromEnvironment = "CACHE_L1_MAX_BYTES"),
    (name = "CACHE_L1_TTL_SECONDS", fromEnvironment = "CACHE_L1_TTL_SECONDS"),
    (name = "CACHE_L1_IDLE_SECONDS", fromEnvironment = "CACHE_L1_IDLE_SECONDS"),
    (name = "REDIS_URL", fromEnvironment = "REDIS_URL"),
    (name = "REDIS_SENTINELS", fromEnvironment = "REDIS_SENTINELS"),
    (name = "REDIS_SENTINEL_MASTER", fromEnvironment = "REDIS_SENTINEL_MASTER"),
    (name = "REDIS_SENTINEL_PASSWORD", fromEnvironment = "REDIS_SENTINEL_PASSWORD"),
    (name = "REDIS_CLUSTER_NODES", fromEnvironment = "REDIS_CLUSTER_NODES"),
    (name = "REDIS_USERNAME", fromEnvironment = "REDIS_USERNAME"),
    (name = "REDIS_PASSWORD", fromEnvironment = "REDIS_PASSWORD"),
    (name = "UPSTASH_REDIS_REST_URL", fromEnvironment = "UPSTASH_REDIS_REST_URL"),
    (name = "UPSTASH_REDIS_REST_TOKEN", fromEnvironment = "UPSTASH_REDIS_REST_TOKEN"),
    (name = "REDIS_TTL_SECONDS", fromEnvironment = "REDIS_TTL_SECONDS"),
    (name = "CACHE_WARM_ON_STARTUP", fromEnvironment = "CACHE_WARM_ON_STARTUP"),
    (name = "CACHE_WARM_SIZE", fromEnvironment = "CACHE_WARM_SIZE"),
    (name = "S3_BUCKET", fromEnvironment = "S3_BUCKET"),
    (name = "S3_REGION", fromEnvironment = "S3_REGION"),
    (name = "S3_PREFIX", fromEnvironment = "S3_PREFIX"),
    (name = "S3_MIN_SIZE_BYTES", fromEnvironment = "S3_MIN_SIZE_BYTES"),
    (name = "S3_ENDPOINT", fromEnvironment = "S3_ENDPOINT"),
    (name = "S3_FORCE_PATH_STYLE", fromEnvironment = "S3_FORCE_PATH_STYLE"),
    (name = "S3_PRESIGN_EXPIRY_SECONDS", fromEnvironment = "S3_PRESIGN_EXPIRY_SECONDS"),
    (name = "S3_PUBLIC_ENDPOINT", fromEnvironment = "S3_PUBLIC_ENDPOINT"),
    (name = "S3_UPLOAD_EXPIRY_SECONDS", fromEnvironment = "S3_UPLOAD_EXPIRY_SECONDS"),
    (name = "S3_SWEEP_INTERVAL_SECONDS", fromEnvironment = "S3_SWEEP_INTERVAL_SECONDS"),
    (name = "S3_SWEEP_GRACE_SECONDS", fromEnvironment = "S3_SWEEP_GRACE_SECONDS"),
    (name = "SEARCH_CONCURRENCY", fromEnvironment = "SEARCH_CONCURRENCY"),
    (name = "SEARCH_QUEUE", fromEnvironment = "SEARCH_QUEUE"),
    (name = "WRITE_CONCURRENCY", fromEnvironment = "WRITE_CONCURRENCY"),
    (name = "WRITE_QUEUE", fromEnvironment = "WRITE_QUEUE"),
    (name = "QUEUE_TIMEOUT_MS", fromEnvironment = "QUEUE_TIMEOUT_MS"),
    (name = "COMPATIBILITY_LEVEL", fromEnvironment = "COMPATIBILITY_LEVEL"),
    (name = "SEMVER_POLICY", fromEnvironment = "SEMVER_POLICY"),
    (name = "AUDIT_RETENTION_DAYS", fromEnvironment = "AUDIT_RETENTION_DAYS"),
    (name = "RATE_LIMIT_PER_SECOND", fromEnvironment = "RATE_LIMIT_PER_SECOND"),
    (name = "RATE_LIMIT_BURST", fromEnvironment = "RATE_LIMIT_BURST"),
    (name = "RATE_LIMIT_WRITE_PER_SECOND", fromEnvironment = "RATE_LIMIT_WRITE_PER_SECOND"),
    (name = "RATE_LIMIT_WRITE_BURST", fromEnvironment = "RATE_LIMIT_WRITE_BURST"),
    (name = "TRUST_PROXY", fromEnvironment = "TRUST_PROXY"),
    (name = "AUTH_REQUIRED", fromEnvironment = "AUTH_REQUIRED"),
    (name = "AUTH_BOOTSTRAP_ADMIN_KEY", fromEnvironment = "AUTH_BOOTSTRAP_ADMIN_KEY"),
    (name = "AUTH_KEY_CACHE_SECONDS", fromEnvironment = "AUTH_KEY_CACHE_SECONDS"),
    (name = "AUTH_JWT_JWKS_URL", fromEnvironment = "AUTH_JWT_JWKS_URL"),
    (name = "AUTH_JWT_ISSUER", fromEnvironment = "AUTH_JWT_ISSUER"),
    (name = "AUTH_JWT_AUDIENCE", fromEnvironment = "AUTH_JWT_AUDIENCE"),
    (name = "AUTH_JWT_ROLE_CLAIM", fromEnvironment = "AUTH_JWT_ROLE_CLAIM"),
    (name = "AUTH_JWT_SUBJECTS_CLAIM", fromEnvironment = "AUTH_JWT_SUBJECTS_CLAIM"),
    (name = "METRICS_PUBLIC", fromEnvironment = "METRICS_PUBLIC"),
    (name = "AWS_ACCESS_KEY_ID", fromEnvironment = "AWS_ACCESS_KEY_ID"),
    (name = "AWS_SECRET_ACCESS_KEY", fromEnvironment = "AWS_SECRET_ACCESS_KEY"),
    (name = "EDGE_MAX_BODY_BYTES", fromEnvironment = "EDGE_MAX_BODY_BYTES"),
    (name = "EDGE_STALENESS_MS", fromEnvironment = "EDGE_STALENESS_MS"),
  ],
);
