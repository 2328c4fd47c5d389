/**
 * Path and query values as Confluent reads them. Versions are integers from 1
 * to 2^31-1, `latest` or `-1` (anything else is 42202, as Confluent answers);
 * booleans are true only for `true` in any case, as Jersey parses them, so a
 * misspelt flag reads as false rather than failing; unknown parameters are
 * ignored. Hand-written rather than zod: these run on every request,
 * including the hottest one.
 */
import type { Context } from "hono";
import { ConfluentError } from "./errors.ts";

const MAX_INT = 2_147_483_647;
const INTEGER = /^-?\d{1,10}$/;

/** `true` in any case is true; anything else, or no value, is false. */
export function flag(c: Context, name: string): boolean {
  return c.req.query(name)?.toLowerCase() === "true";
}

/** A non-negative integer query value, or `fallback` when absent or not an integer. */
export function integerQuery(c: Context, name: string, fallback: number): number {
  const text = c.req.query(name);
  if (text === undefined || !INTEGER.test(text)) return fallback;
  return Number(text);
}

/** A subject version: 1 … 2^31-1, or `latest` (written `latest` or `-1`). */
export function parseVersion(text: string): number | "latest" {
  if (text === "latest" || text === "-1") return "latest";
  if (INTEGER.test(text)) {
    const version = Number(text);
    if (version >= 1 && version <= MAX_INT) return version;
  }
  throw new ConfluentError(
    422,
    42202,
    `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
}

/** A schema id: a positive integer; anything else names no schema. */
export function parseSchemaId(text: string): number {
  if (INTEGER.test(text)) {
    const id = Number(text);
    if (id >= 1 && id <= MAX_INT) return id;
  }
  throw new ConfluentError(404, 40403, `Schema ${text} not found`);
}
