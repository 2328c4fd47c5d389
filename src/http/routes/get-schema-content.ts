/**
 * GET /api/v1/schemas/{id}/content: the content alone, in its canonical text
 * (so its SHA-256 is the content_hash) with its media type. Object-store
 * content answers 307 to a presigned URL; `?redirect=false` streams it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { canonicalJson } from "../../domain/canonical.ts";
import type { SchemaType } from "../../domain/types.ts";
import { parseSchemaRef } from "../../registry/schema-ref.ts";
import type { RouteContext } from "../app-env.ts";
import { CONTENT_CACHE_CONTROL, contentEtag, etagMatches } from "../http-caching.ts";
import { CONTENT_MEDIA_TYPES } from "../../domain/media-types.ts";
import { API_PREFIX, errorResponses, requestIdHeader } from "../responses.ts";

export function getSchemaContent({ app, deps, schemas }: RouteContext): void {
  const text = { schema: { type: "string" as const } };
  const route = createRoute({
    method: "get",
    path: `${API_PREFIX}/schemas/{id}/content`,
    operationId: "getSchemaContent",
    tags: ["schemas"],
    summary: "The content alone, with its media type",
    description: `The canonical text of the content: JSON with sorted keys and no insignificant whitespace for json and avro, the normalised source for protobuf; its SHA-256 is the content_hash. Media types: json ${CONTENT_MEDIA_TYPES.json}, avro ${CONTENT_MEDIA_TYPES.avro}, protobuf ${CONTENT_MEDIA_TYPES.protobuf}. Cache-Control: ${CONTENT_CACHE_CONTROL}.`,
    request: {
      params: schemas.schemaIdParam,
      query: z.object({
        redirect: z.enum(["true", "false"], { message: "expected true or false" }).optional().openapi({
          description: "false: stream object-store content through the registry instead of a 307.",
        }),
      }),
    },
    responses: {
      200: {
        description: "The content.",
        headers: {
          ETag: { description: "The content_hash, quoted.", schema: { type: "string" } },
          ...requestIdHeader,
        },
        content: {
          [CONTENT_MEDIA_TYPES.json]: text,
          [CONTENT_MEDIA_TYPES.avro]: text,
          [CONTENT_MEDIA_TYPES.protobuf]: text,
        },
      },
      304: { description: "If-None-Match matched." },
      307: {
        description: "Object-store content: the Location is a presigned GET URL.",
        headers: { Location: { description: "Presigned URL.", schema: { type: "string" } } },
      },
      ...errorResponses(schemas, 404),
    },
  });

  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { redirect } = c.req.valid("query");
    const content = await deps.service.getContent(parseSchemaRef(id), { redirect: redirect !== "false" });
    const etag = contentEtag(content.schema);
    if (etagMatches(c.req.header("If-None-Match"), etag)) {
      return c.body(null, 304, { ETag: etag, "Cache-Control": CONTENT_CACHE_CONTROL });
    }
    if (content.kind === "link") {
      // The URL expires: neither the redirect nor the URL may be cached beyond it.
      return c.body(null, 307, { Location: content.link.url, "Cache-Control": "no-store" });
    }
    const headers = {
      "Content-Type": CONTENT_MEDIA_TYPES[content.schema.schemaType],
      ETag: etag,
      "Cache-Control": CONTENT_CACHE_CONTROL,
    };
    if (content.kind === "stream") {
      return c.body(content.body, 200, { ...headers, "Content-Length": String(content.schema.contentSize) });
    }
    return c.body(canonicalText(content.schema.schemaType, content.value), 200, headers);
  });
}

function canonicalText(schemaType: SchemaType, value: unknown): string {
  // Stored protobuf content is already its canonical source; JSON values lose
  // their key order in the database, so they are written out canonically again.
  return schemaType === "protobuf" && typeof value === "string" ? value : canonicalJson(value);
}
