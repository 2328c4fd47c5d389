/**
 * The one place errors become responses: API.md's envelope
 * `{ error: { code, message, details, request_id } }` with the status of
 * ERROR_STATUS. RegistryErrors pass through as they are; Hono's own
 * HTTPExceptions (malformed JSON, wrong media type, body limit) and zod
 * validation failures are given their API.md codes; anything else is a 500
 * whose message leaks nothing, with the real error in the log.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { ERROR_STATUS, type ErrorCode, isRegistryError, RegistryError } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { AppEnv } from "./app-env.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id.ts";

/** Codes of API.md, plus the one status API.md leaves to us. */
export type EnvelopeCode = ErrorCode | "method_not_allowed";

export interface ErrorEnvelope {
  error: {
    code: EnvelopeCode;
    message: string;
    details: Record<string, unknown>;
    request_id: string;
  };
}

const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: "invalid_request",
  404: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

const HTTP_EXCEPTION_MESSAGES: Partial<Record<ErrorCode, string>> = {
  payload_too_large: "request body is over the size limit",
  unsupported_media_type: "request body must be JSON (Content-Type: application/json)",
};

export function errorResponse(
  c: Context<AppEnv>,
  status: number,
  code: EnvelopeCode,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  // The request-id middleware may not have run (an error before it, or a 404 with no match).
  const requestId = c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  const body: ErrorEnvelope = { error: { code, message, details, request_id: requestId } };
  return c.json(body, status as ContentfulStatusCode, { [REQUEST_ID_HEADER]: requestId, ...headers });
}

export function createErrorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    if (isRegistryError(error)) {
      // The cause holds what the client is not told (driver errors, SQL states).
      const fields = { request_id: c.get("requestId"), code: error.code, error: error.cause ?? error };
      if (error.code === "internal") logger.error(error.message, fields);
      else if (error.code === "unavailable") logger.warn(error.message, fields);
      const message = error.code === "internal" ? INTERNAL_MESSAGE : error.message;
      return errorResponse(
        c,
        ERROR_STATUS[error.code],
        error.code,
        message,
        error.code === "internal" ? {} : error.details,
      );
    }
    if (error instanceof HTTPException) {
      const code = HTTP_EXCEPTION_CODES[error.status];
      if (code) {
        const message = HTTP_EXCEPTION_MESSAGES[code] ?? lowerFirst(error.message || code);
        return errorResponse(c, ERROR_STATUS[code], code, message);
      }
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return errorResponse(c, 500, "internal", INTERNAL_MESSAGE);
  };
}

const INTERNAL_MESSAGE =
  "the registry failed to handle the request; the request id identifies it in the logs";

/** Where a failed validation looked: API.md's words rather than Hono's targets. */
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
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) {
      return errorResponse(
        c,
        405,
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}`,
        { allowed },
        { Allow: allowed.join(", ") },
      );
    }
    return errorResponse(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}`);
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
