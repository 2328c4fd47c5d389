/**
 * GET /api/v1/subjects/{subject}/versions: the subject's versions, newest
 * first, filtered by state and deletion.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  include,
  includeDeleted,
  limitedSchemas,
  page,
  pageOf,
  requestIdHeader,
  schemaResource,
  stateList,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";

export function listVersions(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects/{subject}/versions`,
    operationId: "listVersions",
    tags: ["subjects"],
    summary: "A subject's versions, newest first",
    description:
      "Items carry no content unless include=content. A subject with no version to show answers 404.",
    request: {
      params: limitedSchemas(service.limits).subjectParam,
      query: z.object({ state: stateList, include, include_deleted: includeDeleted, ...page }),
    },
    responses: {
      200: {
        description: "A page of versions.",
        headers: requestIdHeader,
        content: { "application/json": { schema: pageOf(schemaResource, "SchemaList") } },
      },
      ...errorResponses(404),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const query = c.req.valid("query");
    const withContent = query.include === "content";
    const found = await service.listVersions(subject, {
      limit: query.limit,
      offset: query.offset,
      states: query.state,
      includeDeleted: query.include_deleted,
      withContent,
    });
    return c.json(
      { ...found, items: found.items.map((item) => toSchemaResource(item, { withContent })) },
      200,
    );
  });
}
