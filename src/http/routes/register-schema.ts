/**
 * POST /api/v1/schemas: register a schema. 201 with the new schema, or 200
 * with the one already holding the same content under the subject.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { SCHEMA_TYPES } from "../../domain/types.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  errorResponses,
  limitedSchemas,
  requestIdHeader,
  schemaResource,
  version,
} from "../contract.ts";
import { toSchemaResource } from "../schema-representation.ts";

const location = { Location: { description: "Path of the schema.", schema: { type: "string" as const } } };

function registerBody({ subject, metadata }: ReturnType<typeof limitedSchemas>) {
  return z
    .strictObject({
      subject,
      schema_type: z.enum(SCHEMA_TYPES),
      content: z.unknown().optional().openapi({
        description:
          "A JSON value for json and avro (a string holding the JSON text is accepted too); the .proto source string for protobuf. Required unless upload_id is given.",
      }),
      upload_id: z.uuid("must be the upload_id answered by POST /api/v1/uploads").optional().openapi({
        description:
          "In place of content: a direct upload (POST /api/v1/uploads) whose object holds the content as text (JSON text, an Avro type name, or .proto source). The server reads and validates it; the upload is removed once registered, and kept until it expires otherwise, so a register refused with 409 can be retried with another version.",
      }),
      version: version.optional().openapi({
        description: "Absent: 1.0.0 for a new subject, else the latest version's minor + 1.",
      }),
      state: z.enum(["draft", "active"]).optional().openapi({ description: "Default active." }),
      metadata: metadata.optional(),
    })
    .superRefine((body, ctx) => {
      if (body.content !== undefined && body.upload_id !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["upload_id"],
          message: "give either content or upload_id, not both",
        });
      } else if (body.content === undefined && body.upload_id === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["content"],
          message: "required, unless upload_id names content uploaded through POST /api/v1/uploads",
        });
      }
    })
    .openapi("RegisterSchema", {
      example: {
        subject: "com.acme.chat.CompletionRequest",
        schema_type: "json",
        content: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
        version: "1.0.0",
        metadata: { tags: ["llm"], owner: "platform-team" },
      },
    });
}

export function registerSchema(app: RegistryApp, { service }: AppDeps): void {
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
      body: {
        required: true,
        content: { "application/json": { schema: registerBody(limitedSchemas(service.limits)) } },
      },
    },
    responses: {
      201: {
        description: "Registered.",
        headers: { ...location, ...requestIdHeader },
        content: { "application/json": { schema: schemaResource } },
      },
      200: {
        description: "The same content was already registered under the subject: that schema.",
        headers: { ...location, ...requestIdHeader },
        content: { "application/json": { schema: schemaResource } },
      },
      ...errorResponses(404, 409, 413, 415, 422),
    },
  });

  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const { schema, created, link } = await service.register({
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
