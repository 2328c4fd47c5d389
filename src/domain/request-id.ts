/**
 * Request ids: every request gets one, echoed in the `X-Request-Id` response
 * header and in every error body, so a client's report can be matched with
 * the logs. The app's middleware, its fast path and a draining server all
 * decide the id by these rules, so a request's id does not depend on which
 * of them answered it.
 *
 * The client's id is kept when it is sane: 1 to 128 characters of letters,
 * digits and `_ . : = -`. That is the union of what Hono's request-id
 * middleware keeps (word characters, `-`, `=`) and what the registry has
 * always kept (`.` and `:` too), so the middleware's own check and this one
 * never disagree.
 *
 * Fresh ids are a per-process random prefix and a counter: unique within the
 * process, unlikely to collide across instances (80 random bits), and not
 * guessable from outside without one id of this process. A UUID per request
 * cost a real share of a cached read; this is a string concatenation.
 */

export const REQUEST_ID_HEADER = "X-Request-Id";
export const MAX_REQUEST_ID_LENGTH = 128;
const SANE_ID = /^[\w.:=-]{1,128}$/;

// UUID-shaped (8-4-4-4-12 hex), as ids always were: 80 random bits, then the counter's 48. Drawn on the
// first id rather than at load: a Worker may not generate random values while its modules load.
let prefix: string | null = null;
// Starts anywhere in [2^44, 2^45): always 12 hex digits (no padding per id), and ids do not tell how many came before.
let counter = 0;

/** A new id, never handed out before by this process. */
export function newRequestId(): string {
  if (prefix === null) {
    prefix = Array.from(crypto.getRandomValues(new Uint8Array(10)), (byte) =>
      byte.toString(16).padStart(2, "0"),
    )
      .join("")
      .replace(/^(.{8})(.{4})(.{4})(.{4})$/, "$1-$2-$3-$4-");
    counter = 2 ** 44 + Math.floor(Math.random() * 2 ** 44);
  }
  counter++;
  return prefix + counter.toString(16);
}

/** The client's id when it is sane, else a new one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && SANE_ID.test(header) ? header : newRequestId();
}
