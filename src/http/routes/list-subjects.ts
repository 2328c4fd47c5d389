/**
 * GET /api/v1/subjects: subjects with their latest version and version count.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { toSubjectResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function listSubjects({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/subjects`,
    operationId: "listSubjects",
    tags: ["subjects"],
    summary: "Subjects",
    request: { query: z.object(schemas.page) },
    responses: {
      200: {
        description: "A page of subjects.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.subjectList } },
      },
      ...errorResponses(schemas),
    },
  });

  app.openapi(route, async (c) => {
    const { limit, offset } = c.req.valid("query");
    const page = await deps.service.listSubjects({ limit, offset });
    return c.json({ ...page, items: page.items.map(toSubjectResource) }, 200);
  });
}
