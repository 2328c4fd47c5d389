/**
 * The one place errors become responses: the envelope
 * `{ error: { code, message, details, request_id } }` with the status
 * `ERROR_STATUS` gives its code. RegistryErrors pass through as they are;
 * Hono's own HTTPExceptions (malformed JSON, wrong media type) and zod
 * validation failures are given their codes; anything else is a 500 whose
 * message leaks nothing, with the real error in the log.
 *
 * `responseForError` takes no Hono context: the app's `onError` and the fast
 * path in front of the app (schema-fast-path.ts) answer through it alike.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import {
  ERROR_STATUS,
  type ErrorCode,
  errorEnvelope,
  isRegistryError,
  RegistryError,
} from "../domain/errors.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { Logger } from "../observability/logger.ts";
import type { AppEnv } from "./app-env.ts";

/** The statuses of Hono's HTTPExceptions that have a code of their own; any other is a 500. */
const HTTP_EXCEPTION_STATUSES: ReadonlySet<number> = new Set([400, 404, 413, 415]);

const HTTP_EXCEPTION_MESSAGES: Partial<Record<ErrorCode, string>> = {
  payload_too_large: "request body is over the size limit",
  unsupported_media_type: "request body must be JSON (Content-Type: application/json)",
};

const INTERNAL_MESSAGE =
  "the registry failed to handle the request; the request id identifies it in the logs";

/** What the error handling needs to know of the request that failed. */
export interface FailedRequest {
  requestId: string;
  method: string;
  path: string;
}

export function errorResponse(
  requestId: string,
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(errorEnvelope(code, message, details, requestId)), {
    status: ERROR_STATUS[code],
    headers: { "Content-Type": "application/json", [REQUEST_ID_HEADER]: requestId, ...headers },
  });
}

export function responseForError(error: unknown, request: FailedRequest, logger: Logger): Response {
  const { requestId } = request;
  if (isRegistryError(error)) {
    // The cause holds what the client is not told (driver errors, SQL states).
    const fields = { request_id: requestId, code: error.code, error: error.cause ?? error };
    const retryAfter = error.details.retry_after_seconds;
    if (error.code === "internal") logger.error(error.message, fields);
    // A refusal by an admission bound is counted in /metrics; a line for each would flood the log in a storm.
    else if (error.code === "unavailable" && retryAfter === undefined) logger.warn(error.message, fields);
    if (error.code === "internal") return errorResponse(requestId, "internal", INTERNAL_MESSAGE);
    return errorResponse(
      requestId,
      error.code,
      error.message,
      error.details,
      typeof retryAfter === "number" ? { "Retry-After": String(retryAfter) } : {},
    );
  }
  if (error instanceof HTTPException && HTTP_EXCEPTION_STATUSES.has(error.status)) {
    const code = codeOfStatus(error.status);
    const message = HTTP_EXCEPTION_MESSAGES[code] ?? lowerFirst(error.message || code);
    return errorResponse(requestId, code, message);
  }
  logger.error("unhandled error", {
    request_id: requestId,
    method: request.method,
    path: request.path,
    error,
  });
  return errorResponse(requestId, "internal", INTERNAL_MESSAGE);
}

/** The first code of `ERROR_STATUS` answered with `status`. */
function codeOfStatus(status: number): ErrorCode {
  return (Object.keys(ERROR_STATUS) as ErrorCode[]).find((code) => ERROR_STATUS[code] === status)!;
}

function failedRequest(c: Context<AppEnv>): FailedRequest {
  // The request-id middleware may not have run (an error before it, or a 404 with no match).
  const requestId = c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  return { requestId, method: c.req.method, path: c.req.path };
}

export function createErrorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (error, c) => responseForError(error, failedRequest(c), logger);
}

/** Where a failed validation looked, in the words of the error messages rather than Hono's targets. */
const LOCATIONS: Record<string, string> = { json: "body", query: "query", param: "path", header: "header" };

/** The defaultHook of every route: a zod failure becomes 400 invalid_request listing its issues. */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError; target: string },
): void {
  if (result.success) return;
  const location = LOCATIONS[result.target] ?? result.target;
  const issues = result.error.issues.map((issue) => ({
    location,
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const first = issues[0]!;
  const where = first.path ? `${location} field ${first.path}` : `request ${location}`;
  throw new RegistryError("invalid_request", `invalid ${where}: ${first.message}`, { issues });
}

/** Unknown routes; a known path with another method answers 405 with `Allow`. */
export function createNotFoundHandler(allowedMethods: (path: string) => string[]): NotFoundHandler<AppEnv> {
  return (c) => {
    const { requestId, method, path } = failedRequest(c);
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      return errorResponse(
        requestId,
        "method_not_allowed",
        `${method} is not allowed on ${path}; use ${allowed.join(", ")}`,
        { allowed },
        { Allow: allowed.join(", ") },
      );
    }
    return errorResponse(requestId, "not_found", `no route ${method} ${path}`);
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
