/**
 * POST /api/v1/schemas: register a schema. 201 with the new schema, or 200
 * with the one already holding the same content under the subject. The
 * service checks it at the subject's compatibility level and derives its
 * version from the change; this file documents both for the OpenAPI reader.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_REFERENCES } from "../../domain/references.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { requireSubject } from "../auth/scope.ts";
import {
  API_PREFIX,
  contentFields,
  type ErrorExample,
  errorResponse,
  errorResponses,
  limitedSchemas,
  requestIdHeader,
  requireContentOrUpload,
  schemaReference,
  schemaResource,
  version,
} from "../contract-schemas.ts";
import { toSchemaResource } from "../schema-representation.ts";
import { writeContext } from "../write-context.ts";

const location = { Location: { description: "Path of the schema.", schema: { type: "string" as const } } };

function registerBody({ subject, metadata }: ReturnType<typeof limitedSchemas>) {
  return z
    .strictObject({
      subject,
      ...contentFields,
      upload_id: contentFields.upload_id.openapi({
        description:
          "In place of content: a direct upload (POST /api/v1/uploads) whose object holds the content as text (JSON text, an Avro type name, or .proto source). The server reads and validates it; the upload is removed once registered, and kept until it expires otherwise, so a register refused with 409 can be retried with another version.",
      }),
      version: version.optional().openapi({
        description:
          "Absent: derived from the change (see the operation's description). Given: taken if free; under semver_policy enforce it must be at least the step the change calls for.",
      }),
      state: z.enum(["draft", "active"]).optional().openapi({ description: "Default active." }),
      metadata: metadata.optional(),
      references: z.array(schemaReference).max(MAX_REFERENCES).optional().openapi({
        description:
          "Versions of other subjects the schema uses, each under the name the schema gives it (Avro: a named type's full name; JSON Schema: the $ref value; Protobuf: the import path). Each must exist (422 invalid_schema naming it); they are resolved, with their own references, when the schema is validated and compared. The same content with other references is another schema (another content_id).",
      }),
    })
    .superRefine(requireContentOrUpload)
    .openapi("RegisterSchema", {
      example: {
        subject: "com.acme.chat.CompletionRequest",
        schema_type: "json",
        content: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
        metadata: { tags: ["llm"], owner: "platform-team" },
      },
    });
}

const EXAMPLE_SCHEMA = {
  id: "5f0c2a4e-1b7d-4c3e-9a51-0d2f6b8e7c11",
  global_id: 17,
  subject: "com.acme.chat.CompletionRequest",
  version: "1.1.0",
  content_id: 12,
  subject_version: 2,
  references: [],
  schema_type: "json",
  state: "active",
  content: {
    type: "object",
    properties: { prompt: { type: "string" }, temperature: { type: "number" } },
    required: ["prompt"],
  },
  content_hash: "sha256:dadb629bcc1a6439e7f11674ba3c5123611b727b582933f38a984c9b41f0d003",
  content_size: 113,
  content_location: "inline",
  metadata: { tags: ["llm"], owner: "platform-team" },
  created_at: "2025-03-01T12:00:00.000Z",
  updated_at: "2025-03-01T12:00:00.000Z",
  deleted_at: null,
};

const REQUEST_ID = "0b8f3c5e-7d2a-4f1b-8e6c-9a4d2b1c3e5f";

const CONFLICTS = {
  incompatible_schema: {
    summary: "The subject's compatibility level refuses the change",
    value: {
      error: {
        code: "incompatible_schema",
        message:
          'the schema is not BACKWARD compatible with version 1.1.0 of subject com.acme.chat.CompletionRequest: 1 violation, first: Property "user_id" is required by the new schema but version 1.1.0 does not require it, so documents written with it may lack it: make it optional, or give producers a new major version.',
        details: {
          subject: "com.acme.chat.CompletionRequest",
          level: "BACKWARD",
          checked_versions: ["1.1.0"],
          violations: [
            {
              path: "#/properties/user_id",
              rule: "required_property_added",
              message:
                'Property "user_id" is required by the new schema but version 1.1.0 does not require it, so documents written with it may lack it: make it optional, or give producers a new major version.',
              version: "1.1.0",
            },
          ],
        },
        request_id: REQUEST_ID,
      },
    },
  },
  version_policy: {
    summary: "semver_policy enforce: the version is a smaller step than the change",
    value: {
      error: {
        code: "version_policy",
        message:
          "version 1.2.0 does not follow from the change: it is a major change from 1.1.0, so it needs 2.0.0 or a larger step (the subject's semver_policy is enforce)",
        details: {
          requested_version: "1.2.0",
          needed_version: "2.0.0",
          change: "major",
          latest_version: "1.1.0",
        },
        request_id: REQUEST_ID,
      },
    },
  },
  version_exists: {
    summary: "Another schema holds the version",
    value: {
      error: {
        code: "version_exists",
        message:
          "version 1.1.0 of subject com.acme.chat.CompletionRequest already exists with different content",
        details: {
          subject: "com.acme.chat.CompletionRequest",
          version: "1.1.0",
          existing_id: "5f0c2a4e-1b7d-4c3e-9a51-0d2f6b8e7c11",
          existing_global_id: 17,
          existing_deleted: false,
        },
        request_id: REQUEST_ID,
      },
    },
  },
} satisfies Record<string, ErrorExample>;

export function registerSchema(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "post",
    path: `${API_PREFIX}/schemas`,
    operationId: "registerSchema",
    tags: ["schemas"],
    summary: "Register a schema",
    description: [
      "Validates the content against its schema_type, checks it against the subject's versions at the subject's compatibility level (GET /api/v1/subjects/{subject}/config?effective=true), then stores it. The same content already live under the subject answers 200 with that schema and creates nothing, whatever version was asked for; it is not checked again.",
      "Compatibility: a change the level refuses answers 409 incompatible_schema and stores nothing; details.violations lists every violation, each with its path in the new schema, its rule, a message and the version it conflicts with, and details.checked_versions the versions compared. Non-transitive levels compare with the latest version that is not deleted, transitive ones with every version that is not deleted; NONE compares with nothing. POST /api/v1/subjects/{subject}/compatibility answers the same verdict without registering.",
      "Version derivation, when no version is given: 1.0.0 for a new subject (and for one whose every version is deleted, a new major line); otherwise the subject's highest version (soft-deleted ones included, so a number is never reused) bumped by the change from the latest version that is not deleted: major when the new schema cannot read data written with it (a breaking backward change, whatever the subject's level), patch when the two differ only in documentation (descriptions, titles, doc, comments, key order), minor otherwise (the change adds or relaxes something). With a version given: under semver_policy advise it is taken if it is free; under enforce it must be at least the step the change calls for (a major where a minor would do is fine), else 409 version_policy naming the version needed.",
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
        content: {
          "application/json": {
            schema: schemaResource,
            examples: {
              additive: { summary: "An optional property added to 1.0.0: a minor", value: EXAMPLE_SCHEMA },
            },
          },
        },
      },
      200: {
        description: "The same content was already registered under the subject: that schema.",
        headers: { ...location, ...requestIdHeader },
        content: {
          "application/json": {
            schema: schemaResource,
            examples: { repeated: { summary: "The content of 1.1.0 sent again", value: EXAMPLE_SCHEMA } },
          },
        },
      },
      ...errorResponses(404, 409, 413, 415, 422),
      ...errorResponse(
        409,
        "incompatible_schema: the subject's compatibility level refuses the change (details.violations lists every violation); version_policy: under semver_policy enforce, the version given is a smaller step than the change calls for (details.needed_version); version_exists: another schema holds the version given; conflict: other registers of the subject kept committing while this one was checked (safe to retry).",
        CONFLICTS,
      ),
    },
  });

  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    // The subject is in the body: a caller limited to subject prefixes is held to them here, before any write.
    requireSubject(c, body.subject);
    const { schema, created, link } = await service.register(
      {
        subject: body.subject,
        schemaType: body.schema_type,
        content: body.content,
        uploadId: body.upload_id,
        version: body.version,
        state: body.state,
        metadata: body.metadata,
        references: body.references,
      },
      writeContext(c),
    );
    const headers = { Location: `${API_PREFIX}/schemas/${schema.id}` };
    const resource = toSchemaResource(schema, { withContent: true, link });
    return created ? c.json(resource, 201, headers) : c.json(resource, 200, headers);
  });
}
