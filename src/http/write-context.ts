/**
 * Who is asking, as the routes read it: the principal the authentication
 * middleware set (OPEN_ACCESS where none did: an app built without it, a
 * test), and the WriteContext a write route hands to the registry so the
 * audit log records the write with its actor and request id.
 */
import type { Context } from "hono";
import { type WriteContext, writeContextOf } from "../domain/audit.ts";
import { OPEN_ACCESS, type Principal } from "../domain/principal.ts";
import type { AppEnv } from "./app-env.ts";

export function principalOf(c: Context<AppEnv>): Principal {
  return c.get("principal") ?? OPEN_ACCESS;
}

export function writeContext(c: Context<AppEnv>): WriteContext {
  return writeContextOf(principalOf(c), c.get("requestId") ?? null);
}
