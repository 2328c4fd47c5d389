/**
 * Gives every request an id: the client's `X-Request-Id` when it is sane
 * (short, printable, no spaces), else a fresh UUID. It is echoed in the
 * `X-Request-Id` response header and in every error body, so a client's
 * report can be matched with the logs.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | undefined): string {
  return header && SANE_ID.test(header) ? header : crypto.randomUUID();
}

export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  c.set("requestId", id);
  c.header(REQUEST_ID_HEADER, id);
  await next();
};
