/**
 * What every route and middleware of the app shares: its dependencies and
 * the per-request variables set by the middleware.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RegistryMetrics } from "../observability/registry-metrics.ts";
import type { Logger } from "../registry/logger.ts";
import type { RegistryService } from "../registry/registry-service.ts";
import type { ApiSchemas } from "./schemas.ts";

/** A component whose health `/health/ready` and `/health` report (names: postgres, redis, object_store, …). */
export interface HealthProbe {
  name: string;
  /** A critical component down makes the instance unready; any other only degraded. */
  critical: boolean;
  /** Resolves when the component answers; throws when it does not. */
  check(): Promise<void>;
}

export interface AppDeps {
  service: RegistryService;
  health: HealthProbe[];
  logger: Logger;
  /** What `/metrics` exposes; the HTTP middleware records requests into it. */
  metrics: RegistryMetrics;
}

export type AppEnv = {
  Variables: {
    requestId: string;
  };
};

export type RegistryApp = OpenAPIHono<AppEnv>;

/** What a route module needs to add itself to the app. */
export interface RouteContext {
  app: RegistryApp;
  deps: AppDeps;
  schemas: ApiSchemas;
}
