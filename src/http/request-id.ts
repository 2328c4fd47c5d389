/**
 * Gives every request an id: the client's `X-Request-Id` when it is sane
 * (short, printable, no spaces), else a fresh one. It is echoed in the
 * `X-Request-Id` response header and in every error body, so a client's
 * report can be matched with the logs.
 *
 * Fresh ids are a per-process random prefix and a counter: unique within the
 * process, unlikely to collide across instances (96 random bits), and not
 * guessable from outside without one id of this process. A UUID per request
 * cost a real share of a cached read; this is a string concatenation.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// UUID-shaped (8-4-4-4-12 hex), as ids were before: 80 random bits, then the counter's 48.
const PREFIX = Array.from(crypto.getRandomValues(new Uint8Array(10)), (byte) =>
  byte.toString(16).padStart(2, "0"),
)
  .join("")
  .replace(/^(.{8})(.{4})(.{4})(.{4})$/, "$1-$2-$3-$4-");
// Starts anywhere in [2^44, 2^45): always 12 hex digits (no padding per id), and ids do not tell how many came before.
let counter = 2 ** 44 + Math.floor(Math.random() * 2 ** 44);

/** A new id, never handed out before by this process. */
export function newRequestId(): string {
  counter++;
  return PREFIX + counter.toString(16);
}

export function requestIdFrom(header: string | null | undefined): string {
  return header && SANE_ID.test(header) ? header : newRequestId();
}

export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  c.set("requestId", id);
  c.header(REQUEST_ID_HEADER, id);
  await next();
};
