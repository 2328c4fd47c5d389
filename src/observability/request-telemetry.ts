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
import type { Logger } from "./logger.ts";
import type { RegistryMetrics } from "./registry-metrics.ts";

export const UNMATCHED_ROUTE = "unmatched";

export interface RequestTelemetryOptions {
  metrics: RegistryMetrics;
  logger: Logger;
}

/** Records one finished request: the duration histogram and the access-log line. */
export type RequestRecorder = (
  method: string,
  route: string,
  path: string,
  status: number,
  ms: number,
  requestId: string,
) => void;

/**
 * The recording both the middleware and the app's fast path use, so a
 * request counts the same whichever way it was answered. The histogram's
 * series are resolved once per method, route and status (routes are
 * templates, so they are few): one map lookup per request.
 */
export function createRequestRecorder({ metrics, logger }: RequestTelemetryOptions): RequestRecorder {
  const observers = new Map<string, Map<number, (seconds: number) => void>>();
  return (method, route, path, status, ms, requestId) => {
    // Routes are fewer than routes × methods: key by route, then the method and status in a small map.
    const methodIndex = methodSlot(method);
    if (methodIndex < 0) {
      metrics.observeHttpRequest(method, route, status, ms / 1000);
    } else {
      let byRoute = observers.get(route);
      if (byRoute === undefined) {
        byRoute = new Map();
        observers.set(route, byRoute);
      }
      const slot = status * 8 + methodIndex;
      let observe = byRoute.get(slot);
      if (observe === undefined) {
        observe = metrics.httpRequestObserver(method, route, status);
        byRoute.set(slot, observe);
      }
      observe(ms / 1000);
    }
    logger.info("request", {
      request_id: requestId,
      method,
      route,
      path,
      status,
      duration_ms: Math.round(ms * 100) / 100,
    });
  };
}

// Methods with a pre-resolved series (-1: any other, which goes by its name each time).
function methodSlot(method: string): number {
  switch (method) {
    case "GET":
      return 0;
    case "HEAD":
      return 1;
    case "POST":
      return 2;
    case "PUT":
      return 3;
    case "PATCH":
      return 4;
    case "DELETE":
      return 5;
    default:
      return -1;
  }
}

export function requestTelemetry(
  options: RequestTelemetryOptions,
  record: RequestRecorder = createRequestRecorder(options),
): MiddlewareHandler<{ Variables: { requestId: string } }> {
  const { metrics } = options;
  return async (c, next) => {
    const started = performance.now();
    metrics.requestStarted();
    try {
      await next();
    } finally {
      metrics.requestFinished();
      record(
        c.req.method,
        routeTemplate(c),
        c.req.path,
        c.res.status,
        performance.now() - started,
        c.get("requestId"),
      );
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
