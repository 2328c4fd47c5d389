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
 * counted twice and no state passes from here to the app. Such a read is
 * bounded by the request deadline with one promise and one timer
 * (`answerWithin`) rather than a race of several: with the caches off, every
 * read pays for it. Every other request, and an id that does not parse, goes
 * to the app untouched.
 *
 * Confluent's `GET /schemas/ids/{id}` (no query string), which every
 * Confluent deserializer asks for each schema id it meets, takes the same
 * path when the Confluent API is served: the port's read (an L1 hit without
 * a promise), the route's memoised body, Confluent's error answers.
 *
 * With auth on, both authenticate and authorize as the app's middleware
 * does (src/http/auth/): a remembered key is a Map lookup, not a promise, so
 * an L1 hit stays free of awaits. A caller limited to subject prefixes is
 * held to them: the native read is checked against the schema it read, the
 * Confluent id against the subjects holding it (one lookup, for such
 * callers only).
 */
import { RegistryError } from "../domain/errors.ts";
import { type Principal, roleAtLeast } from "../domain/principal.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { SchemaRef } from "../domain/types.ts";
import { createRequestRecorder } from "../observability/request-telemetry.ts";
import { parseSchemaRef } from "../registry/schema-ref.ts";
import type { AppDeps, RegistryApp } from "./app-env.ts";
import { authorize, refusal } from "./auth/middleware.ts";
import { CONFLUENT_PERMISSIONS, NATIVE_PERMISSIONS } from "./auth/permissions.ts";
import { allowsSubject, outsidePrefixes } from "./auth/scope.ts";
import { CONFLUENT_MEDIA_TYPE } from "./confluent/media.ts";
import { schemaStringBody } from "./confluent/representation.ts";
import { API_PREFIX } from "./contract.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, requestTimedOut } from "./deadline.ts";
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

/**
 * The ids of the fast path's reads, parsed: the hot ones are asked for again
 * and again, and parsing (two patterns and a case fold) cost a sixth of an L1
 * hit's own time. Each ref is frozen, so one may be handed out many times.
 */
const parsedRefs = new Map<string, SchemaRef>();
const MAX_PARSED_REFS = 10_000;

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

/**
 * `ok` of what `pending` gives, `fail` of its error, or `fail` of the
 * deadline's error (`requestTimedOut`, the app's own answer past it) when it
 * has not settled within `timeoutMs`; what it gives later is dropped. One
 * promise and one timer: a race of the read against a timer's promise took
 * four promises more per request.
 */
function answerWithin<T>(
  pending: Promise<T>,
  timeoutMs: number,
  ok: (value: T) => Response | Promise<Response>,
  fail: (error: unknown) => Response | Promise<Response>,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    const answer = <V>(by: (value: V) => Response | Promise<Response>, value: V) => {
      try {
        resolve(by(value));
      } catch (error) {
        reject(error);
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      answer(fail, requestTimedOut(timeoutMs));
    }, timeoutMs);
    // Both outcomes are handled here, so a read that fails after the deadline is no unhandled rejection.
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        answer(ok, value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        answer(fail, error);
      },
    );
  });
}

/** `app` behind the fast path; the app itself is left as it is. */
export function withSchemaFastPath(
  app: RegistryApp,
  {
    service,
    metrics,
    logger,
    confluent,
    auth,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  }: Pick<AppDeps, "service" | "metrics" | "logger" | "confluent" | "auth" | "requestTimeoutMs">,
): FetchHandler {
  const record = createRequestRecorder({ metrics, logger });
  // What is not answered from L1 at once is answered within the request deadline, as the app's routes are.
  const bounded = <T>(
    pending: Promise<T>,
    ok: (value: T) => Response | Promise<Response>,
    fail: (error: unknown) => Response | Promise<Response>,
  ) => answerWithin(pending, requestTimeoutMs, ok, fail);
  // null when auth is off: nothing to check, every caller is OPEN_ACCESS.
  const authenticator = auth?.authenticator.required ? auth.authenticator : null;
  const nativeRole = NATIVE_PERMISSIONS[`GET ${SCHEMA_ROUTE}`]!.access;
  const confluentOperation = {
    key: `GET ${CONFLUENT_ROUTE}`,
    permission: CONFLUENT_PERMISSIONS[`GET ${CONFLUENT_ROUTE}`]!,
  };

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

  /** The caller of a fast-path request, or its refusal; null when auth is off. */
  const callerOf = (
    request: Request,
    started: number,
    refuse: (error: unknown) => Response,
  ): Principal | Promise<Principal | Response> | Response | null => {
    if (!authenticator) return null;
    try {
      // Lower case: the runtime's lookup is cheaper without folding the name.
      const known = authenticator.authenticate(request.headers.get("authorization"), started);
      return known instanceof Promise ? known.catch(refuse) : known;
    } catch (error) {
      return refuse(error);
    }
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
    const refuse = (error: unknown) =>
      finish(
        refusal(error, "confluent", { requestId, method: "GET", path }, logger),
        path,
        requestId,
        started,
        CONFLUENT_ROUTE,
      );
    const serve = (): Response | Promise<Response> => {
      const read = confluent!.schemaById(id);
      if (!(read instanceof Promise)) return respond(read);
      return bounded(read, respond, refuse);
    };
    const admit = (caller: Principal | Response | null): Response | Promise<Response> => {
      if (caller === null) return serve();
      if (caller instanceof Response) return caller;
      // The common case, decided without building the operation: any role reads, no prefixes to hold to.
      if (caller.subjectPrefixes === null && roleAtLeast(caller.role, "reader")) return serve();
      // One with prefixes waits for the id's subjects.
      let allowed: void | Promise<void>;
      try {
        allowed = authorize(caller, { ...confluentOperation, params: { id: String(id) } }, auth!.lookups);
      } catch (error) {
        return refuse(error);
      }
      return allowed instanceof Promise ? allowed.then(serve, refuse) : serve();
    };
    const caller = callerOf(request, started, refuse);
    return caller instanceof Promise ? bounded(caller, admit, refuse) : admit(caller);
  };

  /** A native read that was not in L1, for a caller that needs no check: answered within the deadline. */
  const answerNative = (
    read: Promise<Parameters<typeof schemaResponse>[0]>,
    path: string,
    requestId: string,
    started: number,
    ifNoneMatch: string | null = null,
  ): Promise<Response> =>
    bounded(
      read,
      (view) => finish(schemaResponse(view, ifNoneMatch, requestId), path, requestId, started),
      (error: unknown) =>
        finish(responseForError(error, { requestId, method: "GET", path }, logger), path, requestId, started),
    );

  const fetch: RegistryApp["fetch"] = (request, env, executionContext) => {
    if (request.method !== "GET") return app.fetch(request, env, executionContext);
    const idText = fastPathId(request.url);
    if (idText === null) {
      const schemaId = confluent ? confluentPathId(request.url) : null;
      return schemaId === null ? app.fetch(request, env, executionContext) : confluentById(request, schemaId);
    }
    let ref = parsedRefs.get(idText);
    try {
      if (ref === undefined) {
        ref = Object.freeze(parseSchemaRef(idText));
        // Bounded by emptying it: a burst of distinct ids costs one parse each, as without it.
        if (parsedRefs.size >= MAX_PARSED_REFS) parsedRefs.clear();
        parsedRefs.set(idText, ref);
      }
    } catch {
      return app.fetch(request, env, executionContext);
    }
    const started = performance.now();
    metrics.requestStarted();
    const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
    const ifNoneMatch = request.headers.get("If-None-Match");
    if (authenticator === null) {
      // No caller to check: an L1 hit is answered here, before any closure of the general way is made.
      const read = service.getSchema(ref);
      if (!(read instanceof Promise)) {
        return finish(schemaResponse(read, ifNoneMatch, requestId), PATH_PREFIX + idText, requestId, started);
      }
      return answerNative(read, PATH_PREFIX + idText, requestId, started, ifNoneMatch);
    }
    const path = PATH_PREFIX + idText;
    const failed = { requestId, method: "GET", path };
    const refuse = (error: unknown) =>
      finish(refusal(error, "native", failed, logger), path, requestId, started);
    const serve = (caller: Principal | Response | null): Response | Promise<Response> => {
      if (caller instanceof Response) return caller;
      if (caller !== null && !roleAtLeast(caller.role, nativeRole as Principal["role"])) {
        return refuse(new RegistryError("forbidden", `this operation needs the ${nativeRole} role`));
      }
      // Held to its prefixes by the schema it read: no lookup of its own.
      const answer = (view: Parameters<typeof schemaResponse>[0]) =>
        caller !== null && !allowsSubject(caller, view.schema.subject)
          ? refuse(outsidePrefixes(caller, view.schema.subject))
          : finish(schemaResponse(view, ifNoneMatch, requestId), path, requestId, started);
      const read = service.getSchema(ref);
      if (!(read instanceof Promise)) return answer(read);
      return bounded(read, answer, (error: unknown) =>
        finish(responseForError(error, failed, logger), path, requestId, started),
      );
    };
    const caller = callerOf(request, started, refuse);
    return caller instanceof Promise ? bounded(caller, serve, refuse) : serve(caller);
  };

  return { fetch };
}
