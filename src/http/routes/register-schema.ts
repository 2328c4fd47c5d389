/**
 * POST /api/v1/schemas: register a schema. 201 with the new schema, or 200
 * with the one already holding the same content under the subject.
 */
import { createRoute } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { toSchemaResource } from "../resource.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function registerSchema({ app, deps, schemas }: RouteContext): void {
  const location = { Location: { description: "Path of the schema.", schema: { type: "string" as const } } };
  const route = createRoute({
    method: "post",
    path: `${API_PREFIX}/schemas`,
    operationId: "registerSchema",
    tags: ["schemas"],
    summary: "Register a schema",
    description: [
      "Validates the content against its schema_type, then stores it. The same content already live under the subject answers 200 with that schema and creates nothing, whatever version was asked for. Without a version: 1.0.0 for a new subject, else the latest version's minor + 1.",
      "Content of S3_MIN_SIZE_BYTES or more goes to the object store when one is configured: the resource then carries content_url instead of content, and an object store that cannot be reached answers 503 unavailable with nothing stored.",
      "upload_id in place of content registers a direct upload (POST /api/v1/uploads); an upload_id that names no upload (never uploaded, expired, already registered, or no object store on this instance) answers 404.",
    ].join("\n\n"),
    request: {
      body: { required: true, content: { "application/json": { schema: schemas.registerBody } } },
    },
    responses: {
      201: {
        description: "Registered.",
        headers: { ...location, ...requestIdHeader },
        content: { "application/json": { schema: schemas.schemaResource } },
      },
      200: {
        description: "The same content was already registered under the subject: that schema.",
        headers: { ...location, ...requestIdHeader },
        content: { "application/json": { schema: schemas.schemaResource } },
      },
      ...errorResponses(schemas, 404, 409, 413, 415, 422),
    },
  });

  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const { schema, created, link } = await deps.service.register({
      subject: body.subject,
      schemaType: body.schema_type,
      content: body.content,
      uploadId: body.upload_id,
      version: body.version,
      state: body.state,
      metadata: body.metadata,
    });
    const headers = { Location: `${API_PREFIX}/schemas/${schema.id}` };
    const resource = toSchemaResource(schema, { withContent: true, link });
    return created ? c.json(resource, 201, headers) : c.json(resource, 200, headers);
  });
}
