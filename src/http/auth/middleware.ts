/**
 * The authentication and authorization middleware, first after the request
 * id and telemetry: every request leaves it with `principal` set (the audit
 * log and the rate limiter after it read that), or is answered here with 401
 * (with `WWW-Authenticate`) or 403, in the envelope of the API the path
 * belongs to (the native one, or Confluent's `{"error_code": 40101 | 40301}`).
 *
 * With auth off every request is OPEN_ACCESS and nothing else happens. With
 * it on: the operation is looked up in the permission table
 * (permissions.ts), open ones pass as ANONYMOUS, the caller is
 * authenticated, its role checked against the operation's, and its subject
 * prefixes against the path's subject or the schema id's subjects (looked up
 * only for a caller that has prefixes). A path no operation matches is
 * passed on to its 404 or 405, once the caller is known.
 */
import type { Context, MiddlewareHandler } from "hono";
import { RegistryError } from "../../domain/errors.ts";
import { OPEN_ACCESS, type Principal, roleAtLeast } from "../../domain/principal.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../domain/request-id.ts";
import type { SchemaRef } from "../../domain/types.ts";
import type { Logger } from "../../observability/logger.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { AppEnv } from "../app-env.ts";
import { confluentErrorResponse } from "../confluent/errors.ts";
import { responseForError } from "../error-handler.ts";
import { ANONYMOUS, type Authenticator } from "./authenticator.ts";
import { type Api, apiOfPath, type MatchedOperation, operationOf, type Permission } from "./permissions.ts";
import { allowsSubject, outsidePrefixes } from "./scope.ts";

/** The challenges of a 401: an API key as a Bearer token, or as Basic (what Confluent's clients send). */
export const WWW_AUTHENTICATE =
  'Bearer realm="schema-registry", Basic realm="schema-registry", charset="UTF-8"';

/** The subjects behind ids, for callers limited to subject prefixes; empty or null when the id is unknown. */
export interface SubjectLookups {
  /** The subject of a native schema (deleted ones too). */
  ofSchema(ref: SchemaRef): Promise<string | null>;
  /** The subjects holding a Confluent schema id (deleted versions too). */
  ofContentId(id: number): Promise<readonly string[]>;
  /** The subjects holding a Confluent schema guid. */
  ofGuid(guid: string): Promise<readonly string[]>;
}

export interface HttpAuth {
  authenticator: Authenticator;
  /** `/metrics` answers without credentials (METRICS_PUBLIC). */
  metricsPublic: boolean;
  lookups: SubjectLookups;
}

const CONFLUENT_ID = /^[1-9][0-9]{0,14}$/;

/**
 * Whether a known caller may run `operation`; throws `forbidden` when not.
 * Answers at once (no promise) unless the subjects behind an id must be
 * looked up, which only a caller limited to prefixes needs.
 */
export function authorize(
  principal: Principal,
  operation: MatchedOperation,
  lookups: SubjectLookups,
): void | Promise<void> {
  const { permission, params } = operation;
  const access = permission.access;
  if (access !== "open" && access !== "metrics" && !roleAtLeast(principal.role, access)) {
    throw new RegistryError(
      "forbidden",
      `this operation needs the ${access} role; the caller is a ${principal.role}`,
      {
        required_role: access,
        role: principal.role,
      },
    );
  }
  if (principal.subjectPrefixes === null) return;
  switch (permission.scope) {
    case "registry":
      throw new RegistryError(
        "forbidden",
        "this operation concerns the whole registry; a caller limited to subject prefixes may not run it",
        { subject_prefixes: principal.subjectPrefixes },
      );
    case "subject": {
      const subject = decoded(params.subject ?? "");
      if (!allowsSubject(principal, subject)) throw outsidePrefixes(principal, subject);
      return;
    }
    case "schema": {
      let ref: SchemaRef;
      try {
        ref = parseSchemaRef(decoded(params.id ?? ""));
      } catch {
        return; // Not an id: the route answers it.
      }
      return lookups.ofSchema(ref).then((subject) => {
        if (subject !== null && !allowsSubject(principal, subject)) throw outsidePrefixes(principal, subject);
      });
    }
    case "content-id":
    case "guid": {
      const id = params.id ?? "";
      if (permission.scope === "content-id" && !CONFLUENT_ID.test(id)) return;
      const subjects =
        permission.scope === "guid"
          ? lookups.ofGuid(decoded(params.guid ?? ""))
          : lookups.ofContentId(Number(id));
      return subjects.then((held) => {
        if (held.length > 0 && !held.some((subject) => allowsSubject(principal, subject))) {
          throw outsidePrefixes(principal, held[0]!);
        }
      });
    }
    default:
      return;
  }
}

/** A refusal of the middleware or the fast path, in the API's own envelope; 401 carries the challenge. */
export function refusal(
  error: unknown,
  api: Api,
  request: { requestId: string; method: string; path: string },
  logger: Logger,
): Response {
  const response =
    api === "confluent"
      ? confluentErrorResponse(error, request, logger)
      : responseForError(error, request, logger);
  if (response.status === 401) response.headers.set("WWW-Authenticate", WWW_AUTHENTICATE);
  return response;
}

export function authentication(auth: HttpAuth | undefined, logger: Logger): MiddlewareHandler<AppEnv> {
  if (!auth?.authenticator.required) {
    return async (c, next) => {
      c.set("principal", OPEN_ACCESS);
      await next();
    };
  }
  const { authenticator, lookups, metricsPublic } = auth;
  return async (c, next) => {
    const path = c.req.path;
    const operation = operationOf(c.req.method, path);
    const permission: Permission | undefined = operation?.permission;
    if (permission?.access === "open" || (permission?.access === "metrics" && metricsPublic)) {
      c.set("principal", ANONYMOUS);
      await next();
      return;
    }
    try {
      // Neither step makes a promise for a remembered key and a caller without prefixes.
      const known = authenticator.authenticate(c.req.raw.headers.get("authorization"));
      const principal = known instanceof Promise ? await known : known;
      // Confluent's by-id reads may name a subject to read the schema as (`?subject=`): it too must be the caller's.
      if (permission?.scope === "content-id" && principal.subjectPrefixes !== null) {
        const asked = c.req.query("subject");
        if (asked && !allowsSubject(principal, asked)) throw outsidePrefixes(principal, asked);
      }
      const allowed = operation ? authorize(principal, operation, lookups) : undefined;
      if (allowed instanceof Promise) await allowed;
      c.set("principal", principal);
    } catch (error) {
      return refusal(error, permission?.api ?? apiOfPath(path), requestOf(c), logger);
    }
    await next();
  };
}

function requestOf(c: Context<AppEnv>): { requestId: string; method: string; path: string } {
  return {
    requestId: c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER)),
    method: c.req.method,
    path: c.req.path,
  };
}

/** A path parameter as the route sees it (Hono decodes them): `%2F` is `/`. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
