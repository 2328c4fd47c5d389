/**
 * POST /api/v1/uploads: a direct upload. Answers a presigned PUT URL and an
 * upload_id; the client PUTs the content straight to the object store, then
 * registers it with `POST /api/v1/schemas` and `upload_id` in place of
 * `content`. Large schemas then never pass through the registry on the way in.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type Limits, uploadLimitFor } from "../../domain/limits.ts";
import { SCHEMA_TYPES } from "../../domain/types.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../contract-schemas.ts";

const uploadTicket = z
  .object({
    upload_id: z.uuid().openapi({ description: "Give it to POST /api/v1/schemas in place of content." }),
    url: z
      .url()
      .openapi({ description: "Presigned URL to PUT the content to, straight to the object store." }),
    method: z.literal("PUT"),
    headers: z.record(z.string(), z.string()).openapi({
      description: "Headers to send with the PUT, exactly: they are signed (Content-Type).",
      example: { "content-type": "application/schema+json" },
    }),
    expires_at: z.iso.datetime().openapi({
      description: "The URL works until then; an upload never registered is removed after it.",
    }),
  })
  .openapi("UploadTicket");

function uploadRequest({ maxSchemaBytes }: Limits) {
  return z
    .strictObject({
      schema_type: z.enum(SCHEMA_TYPES),
      content_length: z
        .number()
        .int()
        .min(1)
        .openapi({
          description: `Bytes the client will PUT, at most ${uploadLimitFor(maxSchemaBytes)} (twice the content limit, as for a request body: the uploaded text may be pretty printed; its canonical form is held to ${maxSchemaBytes} bytes when registered). Over the limit: 413.`,
          example: 2_097_152,
        }),
    })
    .openapi("UploadRequest", { example: { schema_type: "json", content_length: 2_097_152 } });
}

export function createUpload(app: RegistryApp, { service }: AppDeps): void {
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
      body: {
        required: true,
        content: { "application/json": { schema: uploadRequest(service.limits) } },
      },
    },
    responses: {
      201: {
        description: "The upload ticket.",
        headers: requestIdHeader,
        content: { "application/json": { schema: uploadTicket } },
      },
      ...errorResponses(404, 413, 415),
    },
  });

  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const ticket = await service.createUpload({
      schemaType: body.schema_type,
      contentLength: body.content_length,
    });
    // The URL is a credential for a while: no cache may keep it.
    return c.json(ticket, 201, { "Cache-Control": "no-store" });
  });
}
