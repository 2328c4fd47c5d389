/**
 * The `{id}` of `/schemas/{id}`: a UUID or a `global_id`. Parsed once here so
 * every route answers a malformed id the same way (400 invalid_request)
 * instead of asking the database about it.
 */
import { RegistryError } from "../domain/errors.ts";
import type { SchemaRef } from "../domain/types.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^[0-9]+$/;

export function parseSchemaRef(text: string): SchemaRef {
  if (DIGITS.test(text)) {
    // Number() of a long digit run is rounded, so compare in BigInt first.
    if (text.length <= 16 && BigInt(text) >= 1n && BigInt(text) <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return { globalId: Number(text) };
    }
    throw RegistryError.invalidRequest(`schema id ${text} is out of range: a global_id is from 1 to 2^53-1`, {
      id: text,
    });
  }
  if (UUID.test(text)) return { id: text.toLowerCase() };
  throw RegistryError.invalidRequest(`schema id ${JSON.stringify(text)} is neither a UUID nor a global_id`, {
    id: text,
  });
}

/** How a ref reads in messages: the UUID or the global_id as the client wrote it. */
export function describeRef(ref: SchemaRef): string {
  return "id" in ref ? ref.id : String(ref.globalId);
}
