/**
 * How the Confluent route modules declare their operations: a method, a Hono
 * path and a handler given the request context and the port. The mounting
 * (confluent-api.ts) wraps every handler once, so failures answer
 * Confluent's error body whatever the handler throws.
 */
import type { Context } from "hono";
import type { ConfluentRegistry } from "../../registry/confluent-registry.ts";
import type { AppEnv } from "../app-env.ts";

export type ConfluentHandler = (
  c: Context<AppEnv>,
  registry: ConfluentRegistry,
) => Promise<Response> | Response;

export interface ConfluentRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  handler: ConfluentHandler;
}

/** The subject of a path: Hono has decoded it, so `%2F` is a `/` and any Unicode arrives as it was sent. */
export function subjectParam(c: Context<AppEnv>): string {
  return c.req.param("subject") ?? "";
}

/** A path parameter of the route (always present when the route matched). */
export function pathParam(c: Context<AppEnv>, name: string): string {
  return c.req.param(name) ?? "";
}
