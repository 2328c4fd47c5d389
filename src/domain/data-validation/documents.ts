/**
 * Small helpers the Avro and Protobuf document walks share: JSON-pointer
 * tokens for error paths, and how a value is described in a message.
 */

/** One JSON-pointer token (RFC 6901: `~` and `/` escaped). */
export function token(key: string | number): string {
  return typeof key === "number" ? String(key) : key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short description of a value for messages: `string "abc"`, `number 1.5`, `object`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "string") {
    const text = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(text)}`;
  }
  return `${typeof value} ${String(value)}`;
}
