/**
 * POST /api/v1/subjects/{subject}/compatibility: a dry run of a register.
 * The verdict on the content as the subject's next version, the versions it
 * was compared with and the version a register would give it; nothing is
 * written, whatever the verdict.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { answeredViolations } from "../../domain/compatibility/index.ts";
import { MAX_REFERENCES } from "../../domain/references.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import {
  API_PREFIX,
  compatibilityLevel,
  contentFields,
  errorResponses,
  limitedSchemas,
  requestIdHeader,
  requireContentOrUpload,
  schemaReference,
  version,
} from "../contract-schemas.ts";

const checkBody = z
  .strictObject({
    ...contentFields,
    version: version.optional().openapi({
      description:
        "The version a register would ask for. Under semver_policy enforce, one that is a smaller step than the change calls for answers 409 version_policy, as the register would.",
    }),
    references: z.array(schemaReference).max(MAX_REFERENCES).optional().openapi({
      description: "The references a register would name (see the register operation).",
    }),
  })
  .superRefine(requireContentOrUpload)
  .openapi("CompatibilityCheck", {
    example: {
      schema_type: "json",
      content: {
        type: "object",
        properties: { prompt: { type: "string" }, user_id: { type: "string" } },
        required: ["prompt", "user_id"],
      },
    },
  });

const violation = z
  .object({
    path: z.string().openapi({
      description:
        "Where in the new schema (JSON Schema: #/properties/email; Avro: #/fields/email; Protobuf: #/messages/acme.Order/fields/3); # is the root.",
    }),
    rule: z.string().openapi({ description: "A stable snake_case identifier of the rule broken." }),
    message: z.string(),
    version: z.string().openapi({ description: "The version the new schema conflicts with." }),
  })
  .openapi("CompatibilityViolation");

const report = z
  .object({
    compatible: z.boolean(),
    level: compatibilityLevel,
    violations: z.array(violation).openapi({ description: "Every violation; empty when compatible." }),
    checked_versions: z
      .array(z.string())
      .openapi({ description: "The versions compared with, newest first." }),
    suggested_version: z.string().openapi({
      description:
        "The version a register without one would get (for content already live under the subject, that schema's version).",
    }),
    existing_id: z.uuid().nullable().openapi({
      description:
        "The schema that already holds this content under the subject, which a register would answer with (200, nothing created); null otherwise.",
    }),
    existing_version: z
      .string()
      .nullable()
      .openapi({ description: "That schema's version; null otherwise." }),
  })
  .openapi("CompatibilityReport", {
    example: {
      compatible: false,
      level: "BACKWARD",
      violations: [
        {
          path: "#/properties/user_id",
          rule: "required_property_added",
          message:
            'Property "user_id" is required by the new schema but version 1.1.0 does not require it, so documents written with it may lack it: make it optional, or give producers a new major version.',
          version: "1.1.0",
        },
      ],
      checked_versions: ["1.1.0"],
      suggested_version: "2.0.0",
      existing_id: null,
      existing_version: null,
    },
  });

export function checkCompatibility(app: RegistryApp, { service }: AppDeps): void {
  const route = createRoute({
    method: "post",
    path: `${API_PREFIX}/subjects/{subject}/compatibility`,
    operationId: "checkCompatibility",
    tags: ["compatibility"],
    summary: "Check a schema against a subject without registering it",
    description: [
      "Takes what POST /api/v1/schemas takes, less subject (the path's), state and metadata, and answers what a register would decide: compatible or not at the subject's level with every violation, the versions compared, and the version a register without one would get. An incompatible schema answers 200 with compatible false; nothing is ever written.",
      "Content already live under the subject answers compatible true, checked_versions [] and suggested_version its version, with existing_id and existing_version naming it: a register would answer with that schema. A subject with no version answers compatible true, checked_versions [] and suggested_version 1.0.0.",
      "Content that is not a valid schema of its schema_type answers 422 invalid_schema before any comparison.",
    ].join("\n\n"),
    request: {
      params: limitedSchemas(service.limits).subjectParam,
      body: { required: true, content: { "application/json": { schema: checkBody } } },
    },
    responses: {
      200: {
        description: "The verdict.",
        headers: requestIdHeader,
        content: { "application/json": { schema: report } },
      },
      ...errorResponses(404, 409, 413, 415, 422),
    },
  });

  app.openapi(route, async (c) => {
    const { subject } = c.req.valid("param");
    const body = c.req.valid("json");
    const verdict = await service.checkCompatibility({
      subject,
      schemaType: body.schema_type,
      content: body.content,
      uploadId: body.upload_id,
      version: body.version,
      references: body.references,
    });
    return c.json(
      {
        compatible: verdict.compatible,
        level: verdict.level,
        violations: answeredViolations(verdict.violations),
        checked_versions: verdict.checkedVersions,
        suggested_version: verdict.suggestedVersion,
        existing_id: verdict.existing?.id ?? null,
        existing_version: verdict.existing?.version ?? null,
      },
      200,
    );
  });
}
