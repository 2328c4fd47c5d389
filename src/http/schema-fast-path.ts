/**
 * A fast path for the registry's hottest request, `GET /api/v1/schemas/{id}`
 * with no query string, in front of the Hono app's `fetch`: the service read
 * (the cache, the read count, the counters: all as usual), then the record's
 * memoised body and ETag written straight into a Response. It skips routing,
 * zod validation and Hono's context, which cost several times the read on
 * an L1 hit, and keeps what users and operators see: the same bytes and
 * headers, If-None-Match → 304, the request id, the duration histogram, the
 * in-flight gauge and the access-log line.
 *
 * Anything else falls through to the app untouched. A read that failed or
 * needs more than the record (object-store content: a presigned link) falls
 * through too, with the read already made handed to the route
 * (`prefetchedSchema`), so nothing is read or counted twice.
 */

import type { SchemaRef } from "../domain/types.ts";
import type { RequestRecorder } from "../observability/request-telemetry.ts";
import type { SchemaView } from "../registry/registry-service.ts";
import { parseSchemaRef } from "../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "./app-env.ts";
import { etagMatches, RESOURCE_CACHE_CONTROL } from "./http-caching.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id.ts";
import { hasInlineContent, schemaRepresentation } from "./resource-body.ts";
import { API_PREFIX } from "./responses.ts";

const PATH_PREFIX = `${API_PREFIX}/schemas/`;
/** The route's template, as the Hono route reports it in metrics and logs. */
export const SCHEMA_ROUTE = `${API_PREFIX}/schemas/:id`;
// A UUID or a global_id, and nothing that needs decoding; the rest goes the normal way.
const REF_TEXT = /^[0-9A-Fa-f-]{1,36}$/;

const prefetched = new WeakMap<Request, Promise<SchemaView>>();

/** The read the fast path made for `request` before handing it to the route, if it did. */
export function prefetchedSchema(request: Request): Promise<SchemaView> | undefined {
  return prefetched.get(request);
}

/** The `{id}` text of a fast-path request's URL, or null when the URL is anything else. */
export function fastPathId(url: string): string | null {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0 || !url.startsWith(PATH_PREFIX, pathStart)) return null;
  const id = url.slice(pathStart + PATH_PREFIX.length);
  return REF_TEXT.test(id) ? id : null;
}

/** Puts the fast path in front of `app.fetch` (and so of `app.request`, which calls it). */
export function installSchemaFastPath(app: RegistryApp, deps: AppDeps, record: RequestRecorder): void {
  const normal = app.fetch;
  const { service, metrics } = deps;

  type Rest = Parameters<RegistryApp["fetch"]> extends [Request, ...infer R] ? R : never;

  /** The response for a schema the read produced; `started` is when the request came in. */
  const respond = (request: Request, view: SchemaView, idText: string, started: number): Response => {
    const { body, etag } = schemaRepresentation(view.schema);
    const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
    const notModified = etagMatches(request.headers.get("If-None-Match") ?? undefined, etag);
    const response = notModified
      ? new Response(null, {
          status: 304,
          headers: { [REQUEST_ID_HEADER]: requestId, ETag: etag, "Cache-Control": RESOURCE_CACHE_CONTROL },
        })
      : new Response(body, {
          status: 200,
          headers: {
            [REQUEST_ID_HEADER]: requestId,
            ETag: etag,
            "Cache-Control": RESOURCE_CACHE_CONTROL,
            "Content-Type": "application/json",
          },
        });
    metrics.requestFinished();
    record(
      "GET",
      SCHEMA_ROUTE,
      PATH_PREFIX + idText,
      response.status,
      performance.now() - started,
      requestId,
    );
    return response;
  };

  const serve = async (
    request: Request,
    ref: SchemaRef,
    idText: string,
    rest: Rest,
    started: number,
  ): Promise<Response> => {
    const read = service.getSchema(ref);
    const view = await read.catch(() => null);
    if (view === null || view.link !== null || !hasInlineContent(view.schema)) {
      // The route answers (its error, or the link) from this same read; its middleware counts the request.
      metrics.requestFinished();
      prefetched.set(request, read);
      return normal(request, ...rest);
    }
    return respond(request, view, idText, started);
  };

  app.fetch = (request, ...rest) => {
    if (request.method !== "GET") return normal(request, ...rest);
    const idText = fastPathId(request.url);
    if (idText === null) return normal(request, ...rest);
    let ref: SchemaRef;
    try {
      ref = parseSchemaRef(idText);
    } catch {
      return normal(request, ...rest);
    }
    const started = performance.now();
    metrics.requestStarted();
    // An L1 hit is answered without a single await; anything else reads as usual.
    const cached = service.peekSchema(ref);
    if (cached !== undefined) return respond(request, cached, idText, started);
    return serve(request, ref, idText, rest, started);
  };
}
