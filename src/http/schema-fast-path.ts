/**
 * A fast path for the registry's hottest request, `GET /api/v1/schemas/{id}`
 * with no query string, wrapped around the app from outside:
 * `withSchemaFastPath(app, deps)` is the fetch handler to serve. It skips
 * routing, zod validation and Hono's context, which cost several times the
 * read on an L1 hit, and keeps what users and operators see: the service's
 * read (the cache, the read count, the counters: all as usual), the response
 * of `schemaResponse` (the route's own: bytes, headers, ETag and 304), errors
 * through the app's own `responseForError`, the request id by the same rule,
 * the duration histogram, the in-flight gauge and the access-log line.
 *
 * An L1 hit is answered without a single await: the service hands back the
 * view itself rather than a promise (registry-service.ts, `getSchema`). Any
 * other read is awaited, and whatever it gives (a view, a link to
 * object-store content, an error) is answered here, so nothing is read or
 * counted twice and no state passes from here to the app. Every other
 * request, and an id that does not parse, goes to the app untouched.
 */
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { SchemaRef } from "../domain/types.ts";
import { createRequestRecorder } from "../observability/request-telemetry.ts";
import { parseSchemaRef } from "../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "./app-env.ts";
import { API_PREFIX } from "./contract.ts";
import { responseForError } from "./error-handler.ts";
import { schemaResponse } from "./schema-representation.ts";

const PATH_PREFIX = `${API_PREFIX}/schemas/`;
/** The route's template, as the Hono route reports it in metrics and logs. */
const SCHEMA_ROUTE = `${API_PREFIX}/schemas/:id`;
// A UUID or a global_id, and nothing that needs decoding; the rest goes the normal way.
const REF_TEXT = /^[0-9A-Fa-f-]{1,36}$/;

/** What a server serves: the app, or the app behind its fast path. */
export interface FetchHandler {
  fetch: RegistryApp["fetch"];
}

/** The `{id}` text of a fast-path request's URL, or null when the URL is anything else. */
export function fastPathId(url: string): string | null {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0 || !url.startsWith(PATH_PREFIX, pathStart)) return null;
  const id = url.slice(pathStart + PATH_PREFIX.length);
  return REF_TEXT.test(id) ? id : null;
}

/** `app` behind the fast path; the app itself is left as it is. */
export function withSchemaFastPath(
  app: RegistryApp,
  { service, metrics, logger }: Pick<AppDeps, "service" | "metrics" | "logger">,
): FetchHandler {
  const record = createRequestRecorder({ metrics, logger });

  const finish = (response: Response, path: string, requestId: string, started: number): Response => {
    metrics.requestFinished();
    record("GET", SCHEMA_ROUTE, path, response.status, performance.now() - started, requestId);
    return response;
  };

  const fetch: RegistryApp["fetch"] = (request, env, executionContext) => {
    if (request.method !== "GET") return app.fetch(request, env, executionContext);
    const idText = fastPathId(request.url);
    if (idText === null) return app.fetch(request, env, executionContext);
    let ref: SchemaRef;
    try {
      ref = parseSchemaRef(idText);
    } catch {
      return app.fetch(request, env, executionContext);
    }
    const started = performance.now();
    metrics.requestStarted();
    const path = PATH_PREFIX + idText;
    const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
    const ifNoneMatch = request.headers.get("If-None-Match");
    const read = service.getSchema(ref);
    if (!(read instanceof Promise)) {
      return finish(schemaResponse(read, ifNoneMatch, requestId), path, requestId, started);
    }
    return read.then(
      (view) => finish(schemaResponse(view, ifNoneMatch, requestId), path, requestId, started),
      (error: unknown) =>
        finish(responseForError(error, { requestId, method: "GET", path }, logger), path, requestId, started),
    );
  };

  return { fetch };
}
