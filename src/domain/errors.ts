/**
 * The registry's single error type. Everything a user can cause, and every
 * backend failure the user should hear about, is a RegistryError; the HTTP
 * layer maps it to API.md's error envelope in one place (`http/error-handler.ts`).
 */

export const ERROR_STATUS = {
  invalid_request: 400,
  not_found: 404,
  version_exists: 409,
  invalid_transition: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_schema: 422,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
