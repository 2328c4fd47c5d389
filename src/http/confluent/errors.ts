/**
 * Confluent's error answers: `{"error_code": 40401, "message": "..."}` with
 * Confluent's HTTP status. `CONFLUENT_ERRORS` is the one table from a
 * RegistryError (its code and `details.resource`) to Confluent's status and
 * error code; every Confluent route answers its failures through
 * `confluentErrorResponse`, so a client sees the codes its error handling
 * switches on (40401 subject not found, 42202 invalid version, …) and never
 * the native envelope.
 */
import { isRegistryError, type RegistryError } from "../../domain/errors.ts";
import { REQUEST_ID_HEADER } from "../../domain/request-id.ts";
import type { Logger } from "../../observability/logger.ts";
import { CONFLUENT_MEDIA_TYPE } from "./media.ts";

/** What a failed Confluent request answers: the HTTP status and Confluent's error code. */
export interface ConfluentStatus {
  status: number;
  errorCode: number;
}

/** The resources the port names in `details.resource` (src/registry/confluent-registry.ts). */
export type ConfluentResource = "subject" | "version" | "schema" | "reference" | "compatibility" | "mode";

/**
 * Keys are `code/resource`, or `code/resource/deleted` when the port says
 * (`details.deleted`) whether the subject or version was soft-deleted: a
 * soft delete of what is already soft-deleted and a permanent delete of what
 * is not are Confluent's 40404/40406 and 40405/40407. `code/*` is the code's
 * answer whatever the resource.
 */
export const CONFLUENT_ERRORS: Readonly<Record<string, ConfluentStatus>> = {
  "not_found/subject": { status: 404, errorCode: 40401 },
  "not_found/version": { status: 404, errorCode: 40402 },
  "not_found/schema": { status: 404, errorCode: 40403 },
  "not_found/compatibility": { status: 404, errorCode: 40408 },
  "not_found/mode": { status: 404, errorCode: 40409 },
  // A schema naming a reference that does not exist cannot be parsed: Confluent calls it invalid.
  "not_found/reference": { status: 422, errorCode: 42201 },
  "conflict/subject/true": { status: 404, errorCode: 40404 },
  "conflict/subject/false": { status: 404, errorCode: 40405 },
  "conflict/version/true": { status: 404, errorCode: 40406 },
  "conflict/version/false": { status: 404, errorCode: 40407 },
  "conflict/reference": { status: 422, errorCode: 42206 },
  "conflict/mode": { status: 422, errorCode: 42205 },
  // A write the mode in force refuses (READONLY, READONLY_OVERRIDE; an id outside IMPORT).
  "read_only/*": { status: 422, errorCode: 42205 },
  "conflict/schema": { status: 422, errorCode: 42205 },
  "version_exists/*": { status: 422, errorCode: 42205 },
  "invalid_request/version": { status: 422, errorCode: 42202 },
  "invalid_request/compatibility": { status: 422, errorCode: 42203 },
  "invalid_request/mode": { status: 422, errorCode: 42204 },
  "invalid_request/subject": { status: 422, errorCode: 42208 },
  "invalid_request/schema": { status: 422, errorCode: 42201 },
  "invalid_request/reference": { status: 422, errorCode: 42201 },
  "invalid_request/*": { status: 400, errorCode: 400 },
  "invalid_schema/*": { status: 422, errorCode: 42201 },
  "incompatible_schema/*": { status: 409, errorCode: 409 },
  "version_policy/*": { status: 409, errorCode: 409 },
  "invalid_transition/*": { status: 422, errorCode: 42205 },
  "conflict/*": { status: 422, errorCode: 42205 },
  "payload_too_large/*": { status: 422, errorCode: 42209 },
  "headers_too_large/*": { status: 431, errorCode: 431 },
  "unsupported_media_type/*": { status: 415, errorCode: 415 },
  "method_not_allowed/*": { status: 405, errorCode: 405 },
  "unauthorized/*": { status: 401, errorCode: 40101 },
  "forbidden/*": { status: 403, errorCode: 40301 },
  "rate_limited/*": { status: 429, errorCode: 42901 },
  "not_found/*": { status: 404, errorCode: 404 },
  // The backend did not answer: Confluent's store error, or its timeout when the port says so.
  "unavailable/timeout": { status: 500, errorCode: 50002 },
  "unavailable/*": { status: 500, errorCode: 50001 },
  "internal/*": { status: 500, errorCode: 50001 },
};

const INTERNAL_MESSAGE = "Error in the backend data store; the request id identifies it in the logs";

/** A failure the Confluent routes raise themselves (bad input they check before the port). */
export class ConfluentError extends Error {
  override readonly name = "ConfluentError";

  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Confluent's status and code for a RegistryError, by the table. */
export function confluentStatusOf(error: RegistryError): ConfluentStatus {
  // A request error may name only the field it is about; a field named like a resource is that resource.
  const named = error.details.resource ?? error.details.field;
  const resource = typeof named === "string" ? named : "*";
  const deleted = error.details.deleted;
  if (typeof deleted === "boolean") {
    const exact = CONFLUENT_ERRORS[`${error.code}/${resource}/${deleted}`];
    if (exact) return exact;
  }
  if (error.code === "unavailable" && error.details.reason === "timeout")
    return CONFLUENT_ERRORS["unavailable/timeout"]!;
  return (
    CONFLUENT_ERRORS[`${error.code}/${resource}`] ??
    CONFLUENT_ERRORS[`${error.code}/*`] ??
    CONFLUENT_ERRORS["internal/*"]!
  );
}

export function confluentErrorBody(errorCode: number, message: string): string {
  return JSON.stringify({ error_code: errorCode, message });
}

export function errorResponseOf(
  status: number,
  errorCode: number,
  message: string,
  requestId: string,
): Response {
  return new Response(confluentErrorBody(errorCode, message), {
    status,
    headers: { "Content-Type": CONFLUENT_MEDIA_TYPE, [REQUEST_ID_HEADER]: requestId },
  });
}

/** Any failure of a Confluent route as Confluent answers it; what is not ours is logged and told nothing. */
export function confluentErrorResponse(
  error: unknown,
  request: { requestId: string; method: string; path: string },
  logger: Logger,
): Response {
  if (error instanceof ConfluentError) {
    return errorResponseOf(error.status, error.errorCode, error.message, request.requestId);
  }
  if (isRegistryError(error)) {
    const { status, errorCode } = confluentStatusOf(error);
    const fields = { request_id: request.requestId, code: error.code, error: error.cause ?? error };
    if (error.code === "internal") {
      logger.error(error.message, fields);
      return errorResponseOf(status, errorCode, INTERNAL_MESSAGE, request.requestId);
    }
    if (error.code === "unavailable") logger.warn(error.message, fields);
    const retryAfter = error.details.retry_after_seconds;
    if (typeof retryAfter === "number") {
      // Refused by an admission bound: busy, not broken. 503 with Retry-After tells a client when to come back.
      const response = errorResponseOf(503, errorCode, error.message, request.requestId);
      response.headers.set("Retry-After", String(retryAfter));
      return response;
    }
    return errorResponseOf(status, errorCode, error.message, request.requestId);
  }
  logger.error("unhandled error", {
    request_id: request.requestId,
    method: request.method,
    path: request.path,
    error,
  });
  return errorResponseOf(500, 50001, INTERNAL_MESSAGE, request.requestId);
}
