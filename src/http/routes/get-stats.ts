/**
 * GET /api/v1/stats: counts of schemas by state, subjects, storage bytes and
 * cache hit rates.
 */
import { createRoute } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { toStatsResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function getStats({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/stats`,
    operationId: "getStats",
    tags: ["operations"],
    summary: "Registry statistics",
    description:
      "State counts (total, draft, active, deprecated, archived) are of schemas that are not deleted; deleted counts the soft-deleted ones.",
    responses: {
      200: {
        description: "The figures.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.stats } },
      },
      ...errorResponses(schemas),
    },
  });

  app.openapi(route, async (c) => c.json(toStatsResource(await deps.service.stats()), 200));
}
