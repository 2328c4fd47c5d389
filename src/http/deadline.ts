/**
 * The end-to-end deadline of every request (REQUEST_TIMEOUT_MS): whatever
 * PostgreSQL, Redis or S3 do, the client has an answer within it. Past it,
 * 503 `unavailable` with `reason: "timeout"` and `Retry-After`, in the native
 * envelope, or Confluent's body (50002) on Confluent's routes.
 *
 * Each request runs in a DeadlineScope (runtime/deadline-scope.ts) that the
 * PostgreSQL pool reads. What "503 timeout" means for a write follows from
 * how the scope ends, in two steps:
 *
 * 1. At the deadline less a grace (a fifth of it, at most 500 ms), the scope
 *    expires: statements of the request still waiting for a connection are
 *    dropped unsent, one running on the server is cancelled there (which
 *    rolls back its transaction), and every statement the handler tries next
 *    is refused. The handler then fails fast.
 * 2. During the grace the handler may still finish. If it answers a success
 *    or a client error, that answer stands: a register that committed just
 *    in time answers 201, not a 503 that would hide a write. If it fails, or
 *    is still running when the grace ends, the answer is the deadline's 503.
 *
 * So a 503 for the deadline means the write was not applied, with one narrow
 * exception: a statement that had reached the server and committed while the
 * answer to it could not come back within the grace (a server that stops
 * answering at that very moment). Registers are idempotent (the same content
 * under the same subject answers the existing schema), so the client's
 * remedy is the same in every case: send the same request again.
 *
 * The handler of a request answered by the deadline keeps running in the
 * background until its own bounds end it; its result is dropped.
 */
import type { Context, MiddlewareHandler } from "hono";
import { RegistryError } from "../domain/errors.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../domain/request-id.ts";
import type { Logger } from "../observability/logger.ts";
import { DeadlineScope, runInScope } from "../runtime/deadline-scope.ts";
import type { AppEnv } from "./app-env.ts";
import { confluentErrorResponse } from "./confluent/errors.ts";
import { responseForError } from "./error-handler.ts";

/** The default of REQUEST_TIMEOUT_MS (declared with the setting in app/config/config-schema.ts). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The part of the deadline kept to cancel what is running and hear how it ended. */
export function graceMs(timeoutMs: number): number {
  return Math.min(500, Math.floor(timeoutMs / 5));
}

/** The deadline's answer. */
export function requestTimedOut(timeoutMs: number): RegistryError {
  return new RegistryError(
    "unavailable",
    `the request was not answered within ${timeoutMs} ms (a backend is slow or down); a write answered so was not applied: send it again`,
    { reason: "timeout", timeout_ms: timeoutMs, retry_after_seconds: 1 },
  );
}

export interface DeadlineOptions {
  timeoutMs: number;
  logger: Logger;
  /** Whether a path is one of Confluent's routes, answered in Confluent's body. */
  isConfluent: (path: string) => boolean;
}

type Outcome = "done" | "late";

function later(ms: number): { promise: Promise<"late">; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"late">((resolve) => {
    timer = setTimeout(resolve, ms, "late");
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** The middleware; it goes right after the request id and telemetry, so both see its answer. */
export function requestDeadline(options: DeadlineOptions): MiddlewareHandler<AppEnv> {
  const { timeoutMs, logger, isConfluent } = options;
  const grace = graceMs(timeoutMs);
  return async (c, next) => {
    const scope = new DeadlineScope(timeoutMs);
    const work = runInScope(scope, () => next());
    const finished = work.then(
      (): Outcome => "done",
      (): Outcome => "done",
    );
    const soft = later(timeoutMs - grace);
    const first = await Promise.race([finished, soft.promise]);
    soft.cancel();
    if (first === "done") {
      await work;
      return;
    }

    scope.expire();
    const hard = later(grace);
    const second = await Promise.race([finished, hard.promise]);
    hard.cancel();
    // Finished within the grace with a success or a client error: that is the truth about the request.
    if (second === "done" && c.finalized && c.res.status < 500) {
      await work;
      return;
    }
    work.catch(() => {});
    const response = timedOut(c, timeoutMs, logger, isConfluent);
    // A handler that failed within the grace has set its own answer (the context is then finalized, and a
    // returned response would be ignored): replace it outright, without merging its headers into ours.
    c.res = undefined;
    c.res = response;
    return response;
  };
}

function timedOut(
  c: Context<AppEnv>,
  timeoutMs: number,
  logger: Logger,
  isConfluent: (path: string) => boolean,
): Response {
  const request = {
    requestId: c.get("requestId") ?? requestIdFrom(c.req.header(REQUEST_ID_HEADER)),
    method: c.req.method,
    path: c.req.path,
  };
  const error = requestTimedOut(timeoutMs);
  // Confluent's error answer logs an unavailable backend itself; the native one leaves it to the caller.
  if (isConfluent(request.path)) return confluentErrorResponse(error, request, logger);
  logger.warn("request answered by its deadline", {
    request_id: request.requestId,
    method: request.method,
    path: request.path,
    timeout_ms: timeoutMs,
  });
  return responseForError(error, request, logger);
}
