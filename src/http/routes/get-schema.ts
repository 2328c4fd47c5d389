/**
 * GET /api/v1/schemas/{id}: one schema by UUID or global_id, with ETag and
 * If-None-Match. Requests without a query are mostly answered before
 * routing (schema-fast-path.ts); this route answers the rest, and those the
 * fast path handed on with the read it already made.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { RouteContext } from "../app-env.ts";
import { etagMatches, RESOURCE_CACHE_CONTROL, resourceEtag } from "../http-caching.ts";
import { toSchemaResource } from "../resource.ts";
import { hasInlineContent, schemaRepresentation } from "../resource-body.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";
import { prefetchedSchema } from "../schema-fast-path.ts";

export function getSchema({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/schemas/{id}`,
    operationId: "getSchema",
    tags: ["schemas"],
    summary: "One schema, by UUID or by global_id",
    description:
      "Object-store content is not inlined: content_url (presigned) and content_url_expires_at are given instead, unless include=content.",
    request: {
      params: schemas.schemaIdParam,
      query: z.object({ include: schemas.include, include_deleted: schemas.includeDeleted }),
    },
    responses: {
      200: {
        description: "The schema.",
        headers: {
          ETag: { description: "Weak tag of this representation.", schema: { type: "string" } },
          ...requestIdHeader,
        },
        content: { "application/json": { schema: schemas.schemaResource } },
      },
      304: { description: "If-None-Match matched: the client's copy is current." },
      ...errorResponses(schemas, 404),
    },
  });

  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const view = await (prefetchedSchema(c.req.raw) ??
      deps.service.getSchema(parseSchemaRef(id), {
        includeDeleted: query.include_deleted,
        includeContent: query.include === "content",
      }));
    // Inline content with no link: the resource is the record's alone, whatever the query, so its text is memoised.
    const memo =
      view.link === null && hasInlineContent(view.schema) ? schemaRepresentation(view.schema) : null;
    const etag = memo?.etag ?? resourceEtag(view.schema);
    const headers = { ETag: etag, "Cache-Control": RESOURCE_CACHE_CONTROL };
    if (etagMatches(c.req.header("If-None-Match"), etag)) return c.body(null, 304, headers);
    if (memo) return c.body(memo.body, 200, { ...headers, "Content-Type": "application/json" });
    return c.json(toSchemaResource(view.schema, { withContent: true, link: view.link }), 200, headers);
  });
}
