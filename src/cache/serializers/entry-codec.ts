/**
 * The envelope of one cached entry and its checked decoding. An entry is
 * either a value (`{ d }`) or a negative entry (`{ n: 1 }`, "this key has no
 * value"). Whatever comes back from L2 is checked with valibot, first the
 * envelope and then, when the caller gives one, the value's own schema (which
 * may also transform, e.g. ISO strings back to Dates): anything that does not
 * decode or does not match is a miss, never a crash or a wrong answer.
 */
import * as v from "valibot";
import type { Serializer } from "./serializer.ts";

/** A valibot schema for the cached value; its output is what the cache returns. */
export type ValueSchema<T> = v.GenericSchema<unknown, T>;

const ENVELOPE = v.union([
  v.strictObject({ n: v.literal(1) }),
  v.strictObject({
    d: v.pipe(
      v.unknown(),
      v.check((d) => d !== undefined && d !== null),
    ),
  }),
]);

/** What a decoded entry holds: a value, or `null` for "does not exist". */
export interface DecodedEntry<T> {
  value: T | null;
}

export function encodeEntry(serializer: Serializer, value: unknown): string {
  return serializer.encode(value === null ? { n: 1 } : { d: value });
}

export function decodeEntry<T>(
  serializer: Serializer,
  text: string,
  schema?: ValueSchema<T>,
): DecodedEntry<T> | undefined {
  let raw: unknown;
  try {
    raw = serializer.decode(text);
  } catch {
    return undefined;
  }
  const envelope = v.safeParse(ENVELOPE, raw);
  if (!envelope.success) return undefined;
  if ("n" in envelope.output) return { value: null };
  if (schema === undefined) return { value: envelope.output.d as T };
  const checked = v.safeParse(schema, envelope.output.d);
  return checked.success ? { value: checked.output } : undefined;
}
