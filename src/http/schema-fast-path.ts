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
 *
 * Confluent's `GET /schemas/ids/{id}` (no query string), which every
 * Confluent deserializer asks for each schema id it meets, takes the same
 * path when the Confluent API is served: the port's read (an L1 hit without
 * a promise), the route's memoised body, Confluent's error answers.
 */
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { SchemaRef } from "../domain/types.ts";
import { createRequestRecorder } from "../observability/request-telemetry.ts";
import { parseSchemaRef } from "../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "./app-env.ts";
import { confluentErrorResponse } from "./confluent/errors.ts";
import { CONFLUENT_MEDIA_TYPE } from "./confluent/media.ts";
import { schemaStringBody } from "./confluent/representation.ts";
import { API_PREFIX } from "./contract.ts";
import { responseForError } from "./error-handler.ts";
import { schemaResponse } from "./schema-representation.ts";

const PATH_PREFIX = `${API_PREFIX}/schemas/`;
/** The route's template, as the Hono route reports it in metrics and logs. */
const SCHEMA_ROUTE = `${API_PREFIX}/schemas/:id`;
// A UUID or a global_id, and nothing that needs decoding; the rest goes the normal way.
const REF_TEXT = /^[0-9A-Fa-f-]{1,36}$/;

const CONFLUENT_PREFIX = "/schemas/ids/";
const CONFLUENT_ROUTE = "/schemas/ids/:id";
// A schema id the route would take; anything else (zero, signs, a query) goes the normal way.
const SCHEMA_ID_TEXT = /^[1-9][0-9]{0,14}$/;

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

/** The schema id of a Confluent by-id request's URL, or null when the URL is anything else. */
export function confluentPathId(url: string): number | null {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0 || !url.startsWith(CONFLUENT_PREFIX, pathStart)) return null;
  const id = url.slice(pathStart + CONFLUENT_PREFIX.length);
  return SCHEMA_ID_TEXT.test(id) ? Number(id) : null;
}

/** `app` behind the fast path; the app itself is left as it is. */
export function withSchemaFastPath(
  app: RegistryApp,
  { service, metrics, logger, confluent }: Pick<AppDeps, "service" | "metrics" | "logger" | "confluent">,
): FetchHandler {
  const record = createRequestRecorder({ metrics, logger });

  const finish = (
    response: Response,
    path: string,
    requestId: string,
    started: number,
    route = SCHEMA_ROUTE,
  ): Response => {
    metrics.requestFinished();
    record("GET", route, path, response.status, performance.now() - started, requestId);
    return response;
  };

  const confluentById = (request: Request, id: number): Response | Promise<Response> => {
    const started = performance.now();
    metrics.requestStarted();
    const path = CONFLUENT_PREFIX + id;
    const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
    const respond = (schema: Parameters<typeof schemaStringBody>[0]) =>
      finish(
        new Response(schemaStringBody(schema), {
          status: 200,
          headers: { "Content-Type": CONFLUENT_MEDIA_TYPE, [REQUEST_ID_HEADER]: requestId },
        }),
        path,
        requestId,
        started,
        CONFLUENT_ROUTE,
      );
    const read = confluent!.schemaById(id);
    if (!(read instanceof Promise)) return respond(read);
    return read.then(respond, (error: unknown) =>
      finish(
        confluentErrorResponse(error, { requestId, method: "GET", path }, logger),
        path,
        requestId,
        started,
        CONFLUENT_ROUTE,
      ),
    );
  };

  const fetch: RegistryApp["fetch"] = (request, env, executionContext) => {
    if (request.method !== "GET") return app.fetch(request, env, executionContext);
    const idText = fastPathId(request.url);
    if (idText === null) {
      const schemaId = confluent ? confluentPathId(request.url) : null;
      return schemaId === null ? app.fetch(request, env, executionContext) : confluentById(request, schemaId);
    }
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
