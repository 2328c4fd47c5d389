/**
 * GET /api/v1/subjects/{subject}/versions: the subject's versions, newest
 * first, filtered by state and deletion.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { toSchemaResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function listVersions({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects/{subject}/versions`,
    operationId: "listVersions",
    tags: ["subjects"],
    summary: "A subject's versions, newest first",
    description:
      "Items carry no content unless include=content. A subject with no version to show answers 404.",
    request: {
      params: schemas.subjectParam,
      query: z.object({
        state: schemas.stateList,
        include: schemas.include,
        include_deleted: schemas.includeDeleted,
        ...schemas.page,
      }),
    },
    responses: {
      200: {
        description: "A page of versions.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.schemaList } },
      },
      ...errorResponses(schemas, 404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const query = c.req.valid("query");
    const withContent = query.include === "content";
    const page = await deps.service.listVersions(subject, {
      limit: query.limit,
      offset: query.offset,
      states: query.state,
      includeDeleted: query.include_deleted,
      withContent,
    });
    return c.json({ ...page, items: page.items.map((item) => toSchemaResource(item, { withContent })) }, 200);
  });
}
