/**
 * The HTTP layer's telemetry, as one Hono middleware placed right after the
 * request id: the request duration histogram by route template and status,
 * the in-flight gauge, and one structured access-log line per request
 * (method, route template, path, status, duration, request id).
 *
 * The route label is the template the request matched (`/api/v1/schemas/:id`),
 * never the concrete path, so a series exists per route rather than per
 * schema; a request no route matched is labelled `unmatched`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Logger } from "../registry/logger.ts";
import type { RegistryMetrics } from "./registry-metrics.ts";

export const UNMATCHED_ROUTE = "unmatched";

export interface RequestTelemetryOptions {
  metrics: RegistryMetrics;
  logger: Logger;
}

export function requestTelemetry({
  metrics,
  logger,
}: RequestTelemetryOptions): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async (c, next) => {
    const started = performance.now();
    metrics.requestStarted();
    try {
      await next();
    } finally {
      metrics.requestFinished();
      const ms = performance.now() - started;
      const route = routeTemplate(c);
      const status = c.res.status;
      metrics.observeHttpRequest(c.req.method, route, status, ms / 1000);
      logger.info("request", {
        request_id: c.get("requestId"),
        method: c.req.method,
        route,
        path: c.req.path,
        status,
        duration_ms: Math.round(ms * 100) / 100,
      });
    }
  };
}

/**
 * The template of the route that answered, or would have: Hono dispatches
 * the matched handlers in order and leaves `routeIndex` on the last one it
 * ran. That is the route's handler, or its validator; when a middleware
 * (method ALL: the body limit) answered instead, the request still went to
 * the next route in line. With no route matched it is `unmatched`.
 */
export function routeTemplate(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = c.req.routeIndex; i < routes.length; i++) {
    const route = routes[i]!;
    if (route.method !== "ALL") return route.path;
  }
  return UNMATCHED_ROUTE;
}
