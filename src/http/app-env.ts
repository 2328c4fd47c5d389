/**
 * What every route and middleware of the app shares: its dependencies and
 * the per-request variables set by the middleware.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../domain/principal.ts";
import type { HealthProbe } from "../observability/health.ts";
import type { Logger } from "../observability/logger.ts";
import type { RegistryMetrics } from "../observability/registry-metrics.ts";
import type { ConfluentRegistry } from "../registry/confluent-registry.ts";
import type { RegistryService } from "../registry/registry-service.ts";
import type { HttpAuth } from "./auth/middleware.ts";
import type { RateLimiting } from "./rate-limit.ts";

export interface AppDeps {
  service: RegistryService;
  health: HealthProbe[];
  logger: Logger;
  /** What `/metrics` exposes; the HTTP middleware records requests into it. */
  metrics: RegistryMetrics;
  /** Every request is answered within this long (http/deadline.ts); default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** Confluent's REST API at the root of the server (src/http/confluent/), served when set. */
  confluent?: ConfluentRegistry;
  /** Per-caller rate limits (rate-limit.ts), after authentication; none when unset. */
  rateLimit?: RateLimiting;
  /** Who may call what (src/http/auth/); absent: every request is OPEN_ACCESS and the key routes answer 503. */
  auth?: HttpAuth;
}

/** `principal`: who is asking, set by the authentication middleware before any route runs. */
export type AppEnv = { Variables: RequestIdVariables & { principal: Principal } };

export type RegistryApp = OpenAPIHono<AppEnv>;

/** A route module: adds its operation (definition and handler) to the app. */
export type AddRoute = (app: RegistryApp, deps: AppDeps) => void;
