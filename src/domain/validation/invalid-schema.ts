/**
 * The one way validators report bad content: `invalid_schema` (422) with the
 * parser's own message and `schema_type` in the details, plus `path`, `line`
 * or `column` where the parser knows them.
 */
import { RegistryError } from "../errors.ts";
import type { SchemaType } from "../types.ts";

/**
 * Parsers sometimes quote the offending part of the schema in their message;
 * on a large schema that part can be megabytes, which has no place in an
 * error body or a log line.
 */
const MAX_MESSAGE_LENGTH = 1000;

export function invalidSchema(
  schemaType: SchemaType,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): RegistryError {
  const text = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
  return new RegistryError("invalid_schema", text, { schema_type: schemaType, ...details }, { cause });
}

/** The message of whatever a parser threw. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
