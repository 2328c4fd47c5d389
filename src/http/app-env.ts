/**
 * What every route and middleware of the app shares: its dependencies and
 * the per-request variables set by the middleware.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { HealthProbe } from "../observability/health.ts";
import type { Logger } from "../observability/logger.ts";
import type { RegistryMetrics } from "../observability/registry-metrics.ts";
import type { RegistryService } from "../registry/registry-service.ts";
import type { ApiSchemas } from "./schemas.ts";

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
