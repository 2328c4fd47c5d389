/**
 * Canonical forms of schema content and the content hash over them (docs/api.md,
 * `content_hash`). Two submissions that differ only in key order, insignificant
 * whitespace or line endings get the same canonical text, hence the same hash,
 * which is what makes "already registered" detection work.
 */

/**
 * JSON with object keys sorted by UTF-16 code unit order (the order of
 * `Array.prototype.sort` on strings, so it is the same on every runtime),
 * no insignificant whitespace, arrays in order. Strings and numbers are
 * written exactly as `JSON.stringify` writes them, and values that
 * `JSON.stringify` drops or turns into `null` (undefined, functions, NaN)
 * are treated the same way, so the result always parses back to the value.
 */
export function canonicalJson(value: unknown): string {
  const text = sortedStringify(value) ?? write(value);
  // Only a top-level undefined/function/symbol has no JSON form.
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

// An integer-like key ("0", "17") is always enumerated first and in numeric
// order by every JavaScript object, whatever order it was inserted in, so an
// object rebuilt with sorted keys cannot hold "10" before "9".
const ARRAY_INDEX_KEY = /^(?:0|[1-9]\d{0,8})$/;

/**
 * The fast path: JSON.stringify with a replacer that hands it each object
 * rebuilt with sorted keys. It runs in native code and keeps no per-level
 * copies of the text, which matters for multi-megabyte schemas (about half
 * the time and half the peak memory of `write`). It gives up (undefined) on
 * the first object with an integer-like key, which `write` then handles.
 */
function sortedStringify(value: unknown): string | undefined {
  let integerKeys = false;
  const text = JSON.stringify(value, (_key, current: unknown) => {
    if (integerKeys || current === null || typeof current !== "object" || Array.isArray(current)) {
      return current;
    }
    const keys = Object.keys(current);
    // Integer-like keys come first in enumeration order, so one look suffices.
    if (keys.length > 0 && ARRAY_INDEX_KEY.test(keys[0]!)) {
      integerKeys = true;
      return current;
    }
    keys.sort();
    // No prototype, so a key named "__proto__" is an own property like any other.
    const sorted: Record<string, unknown> = Object.create(null);
    for (const key of keys) sorted[key] = (current as Record<string, unknown>)[key];
    return sorted;
  });
  return integerKeys ? undefined : text;
}

/** The general path: writes the text itself, so any key order can be expressed. */
function write(value: unknown): string | undefined {
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return JSON.stringify(value);
    case "bigint":
      // JSON.stringify throws here too; say which value is at fault.
      throw new TypeError(`BigInt ${value} has no JSON representation`);
    case "object":
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => write(item) ?? "null");
    return `[${items.join(",")}]`;
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}

/**
 * The canonical `.proto` source: CRLF and lone CR line endings become `\n`,
 * and trailing whitespace is removed from every line. Nothing else changes:
 * the registry serves back what the user wrote, minus invisible differences.
 */
export function normalizeProtobufSource(source: string): string {
  return source
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Hex SHA-256 of bytes, through WebCrypto so it runs on every runtime. */
export async function sha256HexOfBytes(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let hex = "";
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

/** Hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256Hex(text: string): Promise<string> {
  return sha256HexOfBytes(new TextEncoder().encode(text));
}

/** The resource's `content_hash`: `sha256:` + hex SHA-256 of the canonical text. */
export async function contentHash(canonicalText: string): Promise<string> {
  return `sha256:${await sha256Hex(canonicalText)}`;
}
