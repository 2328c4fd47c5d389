/**
 * The envelope of one cached entry and its checked decoding. An entry is
 * either a value (`{ d }`) or a negative entry (`{ n: 1 }`, "this key has no
 * value"). Whatever comes back from L2 is checked: the envelope by hand (it
 * is two fixed shapes, and this runs on every L2 hit, where a valibot union
 * cost measurable time and garbage), then the value with the caller's valibot
 * schema, which may also transform (e.g. ISO strings back to Dates). Anything
 * that does not decode or does not match is a miss, never a crash or a wrong
 * answer.
 */
import * as v from "valibot";
import type { Serializer } from "./serializer.ts";

/** A valibot schema for the cached value; its output is what the cache returns. */
export type ValueSchema<T> = v.GenericSchema<unknown, T>;

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
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  let keys = 0;
  for (const _ in raw) keys++;
  if (keys !== 1) return undefined;
  const entry = raw as { d?: unknown; n?: unknown };
  if (entry.n === 1) return { value: null };
  const data = entry.d;
  if (data === undefined || data === null) return undefined;
  if (schema === undefined) return { value: data as T };
  const checked = v.safeParse(schema, data);
  return checked.success ? { value: checked.output } : undefined;
}
