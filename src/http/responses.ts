/**
 * OpenAPI response entries shared by the routes: the error envelope under
 * each status a route can answer with, described once.
 */
import type { ApiSchemas } from "./schemas.ts";

const DESCRIPTIONS = {
  400: "invalid_request: malformed JSON, a field of the wrong type, an unknown query value",
  404: "not_found: no such schema, subject or version",
  409: "version_exists, invalid_transition or conflict",
  413: "payload_too_large: body or content over the configured limit",
  415: "unsupported_media_type: a body that is not JSON",
  422: "invalid_schema: content that is not a valid schema of its schema_type, with the parser's message",
  500: "internal: anything else; the message leaks no internals",
  503: "unavailable: a backend the request needs is down",
} as const;

export type ErrorStatus = keyof typeof DESCRIPTIONS;

/** 400, 500 and 503 can answer any route; add the route's own. */
export function errorResponses(schemas: ApiSchemas, ...statuses: ErrorStatus[]) {
  const all = new Set<ErrorStatus>([400, ...statuses, 500, 503]);
  const entries = [...all]
    .sort((a, b) => a - b)
    .map((status) => [
      status,
      {
        description: DESCRIPTIONS[status],
        content: { "application/json": { schema: schemas.errorEnvelope } },
      },
    ]);
  return Object.fromEntries(entries) as Record<
    ErrorStatus,
    { description: string; content: { "application/json": { schema: ApiSchemas["errorEnvelope"] } } }
  >;
}

export const API_PREFIX = "/api/v1";

export const requestIdHeader = {
  "X-Request-Id": {
    description: "The request's id: the client's when it was sane, else a generated UUID.",
    schema: { type: "string" as const },
  },
};
