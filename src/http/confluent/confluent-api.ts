/**
 * Confluent's Schema Registry REST API at the root of the server, so that
 * Confluent's clients, serializers and tools work when pointed at this
 * registry. Every operation calls the ConfluentRegistry port; this module
 * mounts them (`addConfluentRoutes`), wraps each handler so its failures
 * answer Confluent's error body (errors.ts), caps request bodies as the
 * native API does, and answers an unknown path or method under Confluent's
 * prefixes with Confluent's own 404 / 405 rather than the native envelope.
 * The routes are plain Hono: their contract is Confluent's, documented in
 * docs/confluent.md, not in the native OpenAPI document.
 */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../domain/request-id.ts";
import type { Logger } from "../../observability/logger.ts";
import type { ConfluentRegistry } from "../../registry/confluent-registry.ts";
import type { AppEnv, RegistryApp } from "../app-env.ts";
import { boundJsonDepth, MAX_BODY_DEPTH, type Refuse } from "../request-bounds.ts";
import { compatibilityRoutes } from "./compatibility.ts";
import { confluentErrorResponse, errorResponseOf } from "./errors.ts";
import { json } from "./media.ts";
import type { ConfluentHandler, ConfluentRoute } from "./route-table.ts";
import { schemaRoutes } from "./schemas.ts";
import { settingsRoutes } from "./settings.ts";
import { subjectRoutes } from "./subjects.ts";

/** Every Confluent operation. `/schemas/types` comes before `/schemas/ids/:id` only for readability: paths differ. */
export const CONFLUENT_ROUTES: readonly ConfluentRoute[] = [
  // Confluent answers its root with an empty object; clients probe it.
  { method: "GET", path: "/", handler: () => json({}) },
  ...schemaRoutes,
  ...subjectRoutes,
  ...compatibilityRoutes,
  ...settingsRoutes,
];

/** The first segments Confluent's API owns; anything under them that no route serves answers Confluent's 404 / 405. */
const PREFIXES = ["/schemas", "/subjects", "/compatibility", "/config", "/mode"];

export interface ConfluentDeps {
  confluent: ConfluentRegistry;
  logger: Logger;
  maxBodyBytes: number;
}

/** Whether `path` is Confluent's: its root, or under one of its prefixes. */
export function isConfluentPath(path: string): boolean {
  return path === "/" || PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * A request over a bound of request-bounds.ts, in Confluent's body: 431 for
 * the headers; a body nested too deep (which Confluent's parser, Jackson,
 * refuses as malformed past its own limit of 1,000) and a `%00` in the URL, 400.
 */
export const refuseConfluent: Refuse = (c, kind, message) =>
  kind === "headers"
    ? errorResponseOf(431, 431, message, requestIdOf(c))
    : errorResponseOf(400, 400, message, requestIdOf(c));

function requestIdOf(c: Context<AppEnv>): string {
  return c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER));
}

function wrap(handler: ConfluentHandler, { confluent, logger }: ConfluentDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    try {
      return await handler(c, confluent);
    } catch (error) {
      return confluentErrorResponse(
        error,
        { requestId: requestIdOf(c), method: c.req.method, path: c.req.path },
        logger,
      );
    }
  };
}

/** Patterns of the routes, to tell a wrong method (405) from a path that does not exist (404). */
function methodTable(): { pattern: RegExp; method: string }[] {
  return CONFLUENT_ROUTES.map((route) => ({
    method: route.method,
    pattern: new RegExp(`^${route.path.replace(/:[^/]+/g, "[^/]+")}/?$`),
  }));
}

export function addConfluentRoutes(app: RegistryApp, deps: ConfluentDeps): void {
  const limit = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: (c) =>
      errorResponseOf(
        413,
        413,
        `request body is over the limit of ${deps.maxBodyBytes} bytes`,
        requestIdOf(c),
      ),
  });
  const depth = boundJsonDepth({ maxDepth: MAX_BODY_DEPTH, refuse: refuseConfluent });
  for (const route of CONFLUENT_ROUTES) {
    const handler = wrap(route.handler, deps);
    // Confluent serves a path with a trailing slash as the path itself; the app's router is strict.
    const paths = route.path === "/" ? [route.path] : [route.path, `${route.path}/`];
    if (route.method === "GET" || route.method === "DELETE") app.on(route.method, paths, handler);
    else app.on(route.method, paths, limit, depth, handler);
  }

  const table = methodTable();
  const unknown = (c: Context<AppEnv>): Response => {
    const path = c.req.path;
    const allowed = new Set(table.filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (allowed.size > 0) {
      if (allowed.has("GET")) allowed.add("HEAD");
      const response = errorResponseOf(405, 405, "HTTP 405 Method Not Allowed", requestIdOf(c));
      response.headers.set("Allow", [...allowed].sort().join(", "));
      return response;
    }
    return errorResponseOf(404, 404, "HTTP 404 Not Found", requestIdOf(c));
  };
  for (const prefix of PREFIXES) {
    app.all(prefix, unknown);
    app.all(`${prefix}/*`, unknown);
  }
}
