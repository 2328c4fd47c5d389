/**
 * GET /api/v1/search: fuzzy text, subject wildcards, type, tags, owner, state
 * and metadata containment, sorted and paged.
 */
import { createRoute } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { toSearchHitResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";
import { parseSort } from "../schemas.ts";

export function searchSchemas({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/search`,
    operationId: "searchSchemas",
    tags: ["search"],
    summary: "Search schemas",
    description: "Every filter given must match. Items carry no content unless include=content.",
    request: { query: schemas.searchQuery },
    responses: {
      200: {
        description: "A page of matches.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.searchResults } },
      },
      ...errorResponses(schemas),
    },
  });

  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    const withContent = query.include === "content";
    const page = await deps.service.search({
      q: query.q,
      subject: query.subject,
      schemaType: query.schema_type,
      tags: query.tags,
      owner: query.owner,
      states: query.state,
      metadata: query.metadata,
      sort: parseSort(query.sort, query.q !== undefined),
      includeDeleted: query.include_deleted,
      withContent,
      limit: query.limit,
      offset: query.offset,
    });
    return c.json({ ...page, items: page.items.map((hit) => toSearchHitResource(hit, withContent)) }, 200);
  });
}
