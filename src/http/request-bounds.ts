/**
 * Bounds on what a request may be, checked before anything parses it: the
 * size of its request line and headers, the size of its body, and how deep
 * its JSON body nests.
 *
 * JSON.parse itself is iterative on both runtimes, but nearly everything
 * after it walks a value by recursion (JSON.stringify, canonical form, zod,
 * the schema parsers): a body nested 100,000 levels deep parses fine and then
 * overflows the stack wherever it is first walked. So the depth is measured
 * on the raw bytes, before the body is parsed at all: one pass that counts
 * `[` and `{` outside strings. The bytes are scanned as they are (every
 * character the scan looks at is ASCII, and no byte of a multi-byte UTF-8
 * sequence is ASCII), so invalid UTF-8 cannot confuse it.
 *
 * The request target may not hold an encoded NUL (`%00`): no subject, id
 * or parameter can contain one (subjects refuse control characters), and
 * PostgreSQL refuses it in any text, so it is refused here rather than
 * sent to the database as a lookup that could only fail.
 *
 * Header sizes: Bun refuses a request line and headers over 16 KiB itself
 * (431, before the app); Deno takes about 64 KiB. The app holds both to the
 * same 16 KiB, answered in the API's own error body.
 *
 * Each API answers in its own error body, so the middleware takes a `refuse`
 * callback: the native API throws a RegistryError, the Confluent routes
 * answer `{"error_code", "message"}`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { RegistryError } from "../domain/errors.ts";
import { MAX_CONTENT_DEPTH } from "../domain/limits.ts";
import type { AppEnv } from "./app-env.ts";

/** Bytes of the request line's target and every header name and value together. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Deepest nesting of arrays and objects in a JSON request body: content may
 * nest MAX_CONTENT_DEPTH levels, and the envelope around it (the register's
 * object, a batch's `documents` array) takes a few more.
 */
export const MAX_BODY_DEPTH = MAX_CONTENT_DEPTH + 24;

export type BoundKind = "headers" | "depth" | "target";

/** Refuses a body over `maxBytes` with the native API's 413 payload_too_large (the API's and the console's routes). */
export function boundBodyBytes(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new RegistryError("payload_too_large", `request body is over the limit of ${maxBytes} bytes`, {
        limit_bytes: maxBytes,
      });
    },
  });
}

/** Answers a request over a bound, or throws the error that answers it. */
export type Refuse = (
  c: Context<AppEnv>,
  kind: BoundKind,
  message: string,
  details: Record<string, number>,
) => Response | Promise<Response>;

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when arrays and objects nest more than `maxDepth` levels in the JSON
 * text `bytes`. Brackets inside strings do not count; text that is not JSON
 * is scanned all the same (the parser refuses it afterwards), and a stray
 * closing bracket never makes the count negative.
 */
export function nestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if ((byte === CLOSE_BRACKET || byte === CLOSE_BRACE) && depth > 0) {
      depth--;
    }
  }
  return false;
}

/** Bytes of the request target and the headers, as a server counts them (UTF-16 units, ASCII in practice). */
export function headerBytes(request: Request): number {
  const url = request.url;
  // The target: what follows the authority, which is what the client sent on its request line.
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  let size = pathStart < 0 ? 1 : url.length - pathStart;
  request.headers.forEach((value, name) => {
    size += name.length + value.length + 4;
  });
  return size;
}

/** An encoded NUL; its hex digits have no case, so this is its only spelling. */
const ENCODED_NUL = "%00";

/** Refuses a request whose request line and headers are over `maxBytes`, or whose target holds `%00`. */
export function boundHeaders(options: { maxBytes: number; refuse: Refuse }): MiddlewareHandler<AppEnv> {
  const { maxBytes, refuse } = options;
  return async (c, next) => {
    if (c.req.raw.url.includes(ENCODED_NUL)) {
      return refuse(
        c,
        "target",
        "the request URL holds an encoded NUL (%00), which no subject, id or parameter may contain",
        {},
      );
    }
    const size = headerBytes(c.req.raw);
    if (size > maxBytes) {
      return refuse(
        c,
        "headers",
        `request line and headers are ${size} bytes, over the limit of ${maxBytes}`,
        {
          limit_bytes: maxBytes,
          size_bytes: size,
        },
      );
    }
    return next();
  };
}

/** Media types the routes read as JSON: absent, `…/json`, `…+json`, and octet-stream (Confluent's clients). */
function readAsJson(contentType: string | null): boolean {
  if (contentType === null) return true;
  const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return (
    mediaType === "" ||
    mediaType.endsWith("/json") ||
    mediaType.endsWith("+json") ||
    mediaType === "application/octet-stream"
  );
}

/**
 * Refuses a JSON body nested deeper than `maxDepth` before any route parses
 * it. The body is read once here (after the body limit, which bounds its
 * size) and handed on as bytes, so the route reads it as usual. A body in a
 * media type the routes do not read as JSON is left to them (415).
 */
export function boundJsonDepth(options: { maxDepth: number; refuse: Refuse }): MiddlewareHandler<AppEnv> {
  const { maxDepth, refuse } = options;
  return async (c, next) => {
    const raw = c.req.raw;
    // A GET or HEAD may arrive with a body (a raw client can send one); no route reads it.
    if (raw.body === null || raw.method === "GET" || raw.method === "HEAD") return next();
    if (!readAsJson(raw.headers.get("Content-Type"))) return next();
    const bytes = new Uint8Array(await raw.arrayBuffer());
    if (nestsDeeperThan(bytes, maxDepth)) {
      return refuse(c, "depth", `request body nests arrays and objects more than ${maxDepth} levels deep`, {
        max_depth: maxDepth,
      });
    }
    c.req.raw = new Request(raw, { body: bytes });
    return next();
  };
}
