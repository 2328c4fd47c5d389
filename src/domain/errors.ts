/**
 * The registry's single error type and the list of its codes. Everything a
 * user can cause, and every backend failure the user should hear about, is a
 * RegistryError; the HTTP layer turns it into the error envelope in one place
 * (`http/error-handler.ts`). `ERROR_STATUS` is the one list of codes: the
 * OpenAPI document's enum, the envelope's type and the status of each answer
 * all come from it.
 */

export const ERROR_STATUS = {
  invalid_request: 400,
  not_found: 404,
  version_exists: 409,
  invalid_transition: 409,
  conflict: 409,
  // A register (or a version) the subject's compatibility rules refuse; details list every violation.
  incompatible_schema: 409,
  // An explicit version that is a smaller step than the change calls for, under semver_policy enforce.
  version_policy: 409,
  // A write refused by the mode in force (READONLY or READONLY_OVERRIDE, or a register IMPORT mode does not
  // accept): the request may be right, the registry's state refuses it, as with the other 409s.
  read_only: 409,
  // No credentials, or credentials the registry does not accept (answers carry WWW-Authenticate).
  unauthorized: 401,
  // A known caller whose role or subject prefixes do not allow the operation.
  forbidden: 403,
  payload_too_large: 413,
  // The request line and headers together are over the bound (http/request-bounds.ts).
  headers_too_large: 431,
  unsupported_media_type: 415,
  invalid_schema: 422,
  // The caller's rate limit is spent; Retry-After says when to come back.
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  // Only the HTTP layer answers it (a known path asked with another method); the service never throws it.
  method_not_allowed: 405,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every code, in the order of `ERROR_STATUS`. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** What every error answers with, whoever answers: the app, its fast path or a draining server. */
export interface ErrorEnvelope {
  error: {
    code: ErrorCode;
    message: string;
    details: Record<string, unknown>;
    request_id: string;
  };
}

export function errorEnvelope(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown>,
  requestId: string,
): ErrorEnvelope {
  return { error: { code, message, details, request_id: requestId } };
}

export class RegistryError extends Error {
  override readonly name = "RegistryError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }

  static notFound(message: string, details: Record<string, unknown> = {}): RegistryError {
    return new RegistryError("not_found", message, details);
  }

  static invalidRequest(message: string, details: Record<string, unknown> = {}): RegistryError {
    return new RegistryError("invalid_request", message, details);
  }

  static unavailable(message: string, cause?: unknown): RegistryError {
    return new RegistryError("unavailable", message, {}, { cause });
  }
}

export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError;
}
