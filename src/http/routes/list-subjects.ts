/**
 * GET /api/v1/subjects: subjects with their latest version and version count.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { LATEST_ELIGIBLE_STATES } from "../../domain/lifecycle.ts";
import type { SubjectSummary } from "../../domain/types.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { scopedPage } from "../auth/scope.ts";
import { API_PREFIX, errorResponses, page, pageOf, requestIdHeader } from "../contract-schemas.ts";

const subjectResource = z
  .object({
    subject: z.string(),
    latest_version: z
      .string()
      .nullable()
      .openapi({
        description: `The highest version that is not deleted and is ${LATEST_ELIGIBLE_STATES.join(" or ")}.`,
      }),
    version_count: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Subject");

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/subjects`,
  operationId: "listSubjects",
  tags: ["subjects"],
  summary: "Subjects",
  request: { query: z.object(page) },
  responses: {
    200: {
      description: "A page of subjects.",
      headers: requestIdHeader,
      content: { "application/json": { schema: pageOf(subjectResource, "SubjectList") } },
    },
    ...errorResponses(),
  },
});

function toSubjectResource(summary: SubjectSummary): z.infer<typeof subjectResource> {
  return {
    subject: summary.subject,
    latest_version: summary.latestVersion,
    version_count: summary.versionCount,
    created_at: summary.createdAt.toISOString(),
    updated_at: summary.updatedAt.toISOString(),
  };
}

export function listSubjects(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    const { limit, offset } = c.req.valid("query");
    // A caller limited to subject prefixes sees only theirs (auth/scope.ts).
    const found = await scopedPage(c, { limit, offset }, (page) => service.listSubjects(page));
    return c.json({ ...found, items: found.items.map(toSubjectResource) }, 200);
  });
}
