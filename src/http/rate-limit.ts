/**
 * Rate limiting, after authentication: every request takes a token from its
 * caller's bucket, one bucket per principal (an API key, a JWT subject) and
 * per client address for anonymous callers, with separate buckets (and
 * limits) for reads (GET, HEAD) and writes (every other method). An empty
 * bucket answers 429 with `Retry-After`, in the envelope of the API the path
 * belongs to (`rate_limited`, or Confluent's 42901); every limited response
 * carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
 *
 * Not limited: the health probes and `/metrics` (an orchestrator must always
 * reach them), and the fast path's answers to `GET /schemas/{id}` served
 * from the in-process cache, which never reach the app (a bucket in Redis
 * would cost a round trip for a read that costs a microsecond).
 *
 * The client address is web-standard: the runtime adapter hands it in as the
 * request's `clientAddress` binding (src/runtime/), and `X-Forwarded-For` is
 * read only when the operator says how many proxies in front of the registry
 * append to it (TRUST_PROXY); otherwise a client could pick its own bucket.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Principal } from "../domain/principal.ts";
import type { BucketDecision, BucketLimit, TokenBuckets } from "../domain/rate-limit.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { RegistryMetrics } from "../observability/registry-metrics.ts";
import type { AppEnv } from "./app-env.ts";
import { errorResponseOf } from "./confluent/errors.ts";
import { API_PREFIX } from "./contract.ts";
import { errorResponse } from "./error-handler.ts";
import { principalOf } from "./write-context.ts";

export interface RateLimitSettings {
  /** Reads (GET, HEAD), per caller; null: not limited. */
  read: BucketLimit | null;
  /** Writes (every other method, dry runs and lookups by POST included), per caller; null: not limited. */
  write: BucketLimit | null;
  /** Proxies in front of the registry that append to X-Forwarded-For; 0 ignores the header. */
  trustProxy: number;
}

export interface RateLimiting {
  buckets: TokenBuckets;
  settings: RateLimitSettings;
  /** Decisions taken in process because the shared store (Redis) did not answer; for /metrics. */
  storeFailures?: () => number;
}

/** What the runtime adapters hand the app beside the request (Hono's `env`). */
export interface ClientInfo {
  /** The address the connection came from. */
  clientAddress?: string;
}

/** Probes and scrapes are never limited. */
function exempt(path: string): boolean {
  return path === "/metrics" || path === "/health" || path.startsWith("/health/");
}

/** The native API and its documents answer the native envelope; the rest of the root is Confluent's. */
function isNativePath(path: string): boolean {
  return path.startsWith(`${API_PREFIX}/`) || path === "/openapi.json" || path === "/docs";
}

/**
 * The address a request came from: the `trustProxy`-th entry of
 * X-Forwarded-For from the right (each trusted proxy appends the address it
 * was reached from), else the connection's. "unknown" when neither says (a
 * test's `app.request()`): those callers share one bucket.
 */
export function clientAddressOf(
  headers: { get(name: string): string | null | undefined },
  env: ClientInfo | undefined,
  trustProxy: number,
): string {
  if (trustProxy > 0) {
    const forwarded = headers.get("x-forwarded-for");
    if (forwarded) {
      const hops = forwarded
        .split(",")
        .map((hop) => hop.trim())
        .filter((hop) => hop.length > 0);
      const client = hops.length >= trustProxy ? hops[hops.length - trustProxy] : hops[0];
      if (client) return client;
    }
  }
  return env?.clientAddress || "unknown";
}

function bucketOf(principal: Principal, address: () => string, kind: "read" | "write"): string {
  return principal.kind === "anonymous"
    ? `${kind}:ip:${address()}`
    : `${kind}:${principal.kind}:${principal.id}`;
}

function setLimitHeaders(headers: Headers, limit: BucketLimit, decision: BucketDecision): void {
  headers.set("RateLimit-Limit", String(limit.burst));
  headers.set("RateLimit-Remaining", String(decision.remaining));
  headers.set("RateLimit-Reset", String(Math.max(0, Math.ceil(decision.resetMs / 1000))));
}

export function rateLimiter(limiting: RateLimiting, metrics: RegistryMetrics): MiddlewareHandler<AppEnv> {
  const { buckets, settings } = limiting;
  const limited = metrics.registry.counter(
    "schema_registry_rate_limited_total",
    "Requests refused with 429 because the caller's bucket was empty, by API (native, confluent) and class (read, write).",
    ["api", "class"],
  );
  for (const api of ["native", "confluent"])
    for (const kind of ["read", "write"]) limited.inc([api, kind], 0);
  const failures = limiting.storeFailures;
  if (failures) {
    metrics.registry.observe(
      "schema_registry_rate_limit_store_failures_total",
      "Rate-limit decisions taken by the instance's own buckets because Redis did not answer within the cache's budget (the limit is then per instance).",
      "counter",
      () => [{ labels: {}, value: failures() }],
    );
  }

  return async (c, next) => {
    const path = c.req.path;
    if (exempt(path)) return next();
    const kind = c.req.method === "GET" || c.req.method === "HEAD" ? "read" : "write";
    const limit = settings[kind];
    if (limit === null) return next();
    const bucket = bucketOf(
      principalOf(c),
      () => clientAddressOf(c.req.raw.headers, c.env as ClientInfo | undefined, settings.trustProxy),
      kind,
    );
    const taken = buckets.take(bucket, limit);
    const decision = taken instanceof Promise ? await taken : taken;
    if (!decision.allowed) {
      const api = isNativePath(path) ? "native" : "confluent";
      limited.inc([api, kind]);
      const response = tooManyRequests(c, api, kind, limit, decision);
      setLimitHeaders(response.headers, limit, decision);
      return response;
    }
    await next();
    try {
      setLimitHeaders(c.res.headers, limit, decision);
    } catch {
      // A response with immutable headers (a fetched one passed through) goes out without them.
    }
  };
}

function tooManyRequests(
  c: Context<AppEnv>,
  api: "native" | "confluent",
  kind: "read" | "write",
  limit: BucketLimit,
  decision: BucketDecision,
): Response {
  const requestId = c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  const message = `rate limit exceeded: ${limit.perSecond} ${kind}s per second (burst ${limit.burst}); retry after ${retryAfter} s`;
  const response =
    api === "confluent"
      ? errorResponseOf(429, 42901, message, requestId)
      : errorResponse(requestId, "rate_limited", message, {
          class: kind,
          limit_per_second: limit.perSecond,
          burst: limit.burst,
          retry_after_seconds: retryAfter,
        });
  response.headers.set("Retry-After", String(retryAfter));
  return response;
}
