/**
 * POST /api/v1/uploads: a direct upload. Answers a presigned PUT URL and an
 * upload_id; the client PUTs the content straight to the object store, then
 * registers it with `POST /api/v1/schemas` and `upload_id` in place of
 * `content`. Large schemas then never pass through the registry on the way in.
 */
import { createRoute } from "@hono/zod-openapi";
import type { RouteContext } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function createUpload({ app, deps, schemas }: RouteContext): void {
  const route = createRoute({
    method: "post",
    path: `${API_PREFIX}/uploads`,
    operationId: "createUpload",
    tags: ["schemas"],
    summary: "Start a direct upload to the object store",
    description: [
      "Answers a presigned PUT URL valid until expires_at. PUT the content to it with exactly the headers given (they are signed, and so is content_length: the store refuses a body of any other length), then register it with POST /api/v1/schemas and upload_id in place of content.",
      "The server reads and validates the uploaded object when it is registered, under the same limits as content sent inline. An upload never registered is removed once it expires.",
      "An instance without an object store (no S3_BUCKET) takes no direct uploads: 404 not_found.",
    ].join("\n\n"),
    request: {
      body: { required: true, content: { "application/json": { schema: schemas.uploadRequest } } },
    },
    responses: {
      201: {
        description: "The upload ticket.",
        headers: requestIdHeader,
        content: { "application/json": { schema: schemas.uploadTicket } },
      },
      ...errorResponses(schemas, 404, 413, 415),
    },
  });

  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const ticket = await deps.service.createUpload({
      schemaType: body.schema_type,
      contentLength: body.content_length,
    });
    // The URL is a credential for a while: no cache may keep it.
    return c.json(ticket, 201, { "Cache-Control": "no-store" });
  });
}
