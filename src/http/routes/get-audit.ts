/**
 * GET /api/v1/audit: the audit log, newest first, for admins: who (actor id
 * and kind) did what (operation, subject, version, schema ids), when, under
 * which request, and the content hashes before and after. Filtered by
 * subject, actor, operation and time; paged with an opaque cursor (the last
 * entry's id), so a page never shifts under writes that land meanwhile.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AUDIT_OPERATIONS, type AuditEntry } from "../../domain/audit.ts";
import { RegistryError } from "../../domain/errors.ts";
import { roleAtLeast } from "../../domain/principal.ts";
import type { AppDeps, RegistryApp } from "../app-env.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../contract-schemas.ts";
import { principalOf } from "../write-context.ts";

export const DEFAULT_AUDIT_PAGE = 50;
export const MAX_AUDIT_PAGE = 1000;

const auditEntry = z
  .object({
    id: z.string().openapi({ description: "The entry's id; increases with every entry." }),
    at: z.iso.datetime(),
    actor: z.object({
      id: z.string().openapi({ description: "The API key id, the JWT subject, `anonymous` or `system`." }),
      kind: z.enum(["key", "jwt", "anonymous", "system"]),
    }),
    request_id: z.string().nullable(),
    operation: z.enum(AUDIT_OPERATIONS),
    subject: z.string().nullable(),
    version: z.string().nullable().openapi({ description: "The semantic version, for schema writes." }),
    subject_version: z.number().int().nullable().openapi({ description: "Confluent's integer version." }),
    schema_id: z.string().nullable(),
    content_id: z.number().int().nullable().openapi({ description: "Confluent's schema id." }),
    hash_before: z.string().nullable().openapi({
      description:
        "The content hash before the write: for a register, the subject's latest live version before it; for a state change or delete, the version's own.",
    }),
    hash_after: z.string().nullable().openapi({
      description: "The content hash the write left: null after a delete.",
    }),
    details: z.record(z.string(), z.unknown()).openapi({
      description:
        "States and reason of a state change; `before` and `after` settings and mode of a config or mode change; a key's role and subjects.",
    }),
  })
  .openapi("AuditEntry");

const cursor = z
  .string()
  .regex(/^[1-9][0-9]{0,17}$/, "expected the next_cursor of a previous page")
  .optional()
  .openapi({ description: "The `next_cursor` of the previous page." });

const route = createRoute({
  method: "get",
  path: `${API_PREFIX}/audit`,
  operationId: "listAuditEntries",
  tags: ["operations"],
  summary: "Audit log (admins)",
  description:
    "Every acknowledged write, newest first: registers, state changes, deletes, settings, modes and API keys. Entries older than AUDIT_RETENTION_DAYS are pruned.",
  request: {
    query: z.object({
      subject: z.string().min(1).optional().openapi({ description: "Only entries about this subject." }),
      actor: z.string().min(1).optional().openapi({ description: "Only entries by this actor id." }),
      operation: z.enum(AUDIT_OPERATIONS).optional(),
      since: z.iso
        .datetime({ offset: true, message: "expected an ISO 8601 date and time" })
        .optional()
        .openapi({ description: "Only entries at or after this time." }),
      limit: z
        .string()
        .regex(/^\d{1,4}$/, `expected an integer from 1 to ${MAX_AUDIT_PAGE}`)
        .optional()
        .transform((value) => (value === undefined ? DEFAULT_AUDIT_PAGE : Number(value)))
        .pipe(
          z
            .number()
            .int()
            .min(1, `expected an integer from 1 to ${MAX_AUDIT_PAGE}`)
            .max(MAX_AUDIT_PAGE, `expected an integer from 1 to ${MAX_AUDIT_PAGE}`),
        )
        .openapi({ type: "integer", minimum: 1, maximum: MAX_AUDIT_PAGE, default: DEFAULT_AUDIT_PAGE }),
      cursor,
    }),
  },
  responses: {
    200: {
      description: "A page of entries, newest first.",
      headers: requestIdHeader,
      content: {
        "application/json": {
          schema: z
            .object({
              items: z.array(auditEntry),
              next_cursor: z.string().nullable().openapi({ description: "null on the last page." }),
            })
            .openapi("AuditPage"),
        },
      },
    },
    ...errorResponses(),
  },
});

function toAuditResource(entry: AuditEntry): z.infer<typeof auditEntry> {
  return {
    id: String(entry.id),
    at: entry.at.toISOString(),
    actor: { id: entry.actor.id, kind: entry.actor.kind },
    request_id: entry.requestId,
    operation: entry.operation,
    subject: entry.subject,
    version: entry.version,
    subject_version: entry.subjectVersion,
    schema_id: entry.schemaId,
    content_id: entry.contentId,
    hash_before: entry.hashBefore,
    hash_after: entry.hashAfter,
    details: entry.details,
  };
}

export function getAudit(app: RegistryApp, { service }: AppDeps): void {
  app.openapi(route, async (c) => {
    // The permission table of http/auth refuses non-admins first; this holds even where it is not mounted.
    const principal = principalOf(c);
    if (!roleAtLeast(principal.role, "admin")) {
      throw new RegistryError("forbidden", `the audit log is for admins; the caller is a ${principal.role}`, {
        required_role: "admin",
        role: principal.role,
      });
    }
    const query = c.req.valid("query");
    const page = await service.auditLog({
      limit: query.limit,
      ...(query.subject === undefined ? {} : { subject: query.subject }),
      ...(query.actor === undefined ? {} : { actor: query.actor }),
      ...(query.operation === undefined ? {} : { operation: query.operation }),
      ...(query.since === undefined ? {} : { since: new Date(query.since) }),
      ...(query.cursor === undefined ? {} : { before: Number(query.cursor) }),
    });
    return c.json(
      {
        items: page.items.map(toAuditResource),
        next_cursor: page.nextCursor === null ? null : String(page.nextCursor),
      },
      200,
    );
  });
}
