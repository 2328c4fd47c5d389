/**
 * Turns driver and server failures into RegistryErrors, in one place, so no
 * caller sees SQL text or a driver's message: a database that does not answer
 * is `unavailable`, a write that lost a race is `conflict`, anything else is
 * `internal` with the original error kept as `cause` for the logs.
 */
import postgres from "postgres";
import { isRegistryError, RegistryError } from "../../domain/errors.ts";

// Socket errors and postgres.js's own connection errors.
const DRIVER_UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

// SQLSTATEs (besides class 08, connection exceptions) meaning "try again later".
const SQLSTATE_UNAVAILABLE = new Set([
  "57014", // query_canceled: the statement timeout fired
  "55P03", // lock_not_available
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** True when the error says the database cannot be reached or did not answer. */
export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return false;
  return DRIVER_UNAVAILABLE.has(code) || SQLSTATE_UNAVAILABLE.has(code) || code.startsWith("08");
}

/** An error raised by PostgreSQL or by the driver, as opposed to one thrown by the caller's own code. */
export function isDatabaseError(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) return true;
  if (isUnavailable(error)) return true;
  // postgres.js's own errors (bad parameter, protocol trouble) carry an upper-case code.
  const code = codeOf(error);
  return error instanceof Error && code !== undefined && /^[A-Z_]+$/.test(code);
}

export function toRegistryError(error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  if (isUnavailable(error)) {
    return RegistryError.unavailable("the metadata database is unavailable", error);
  }
  const code = codeOf(error) ?? "";
  // Unique and foreign-key violations the repository did not expect, serialization
  // failures and deadlocks: another writer got there first.
  if (code.startsWith("23") || code === "40001" || code === "40P01") {
    return new RegistryError(
      "conflict",
      "a concurrent change conflicted with this request; retry it",
      {},
      {
        cause: error,
      },
    );
  }
  if (code.startsWith("22")) {
    return new RegistryError(
      "invalid_request",
      "a value was not acceptable to the database",
      {},
      { cause: error },
    );
  }
  return new RegistryError(
    "internal",
    "the metadata database failed to answer the request",
    {},
    { cause: error },
  );
}
