/**
 * Confluent's schema routes: `GET /schemas/types`, `GET /schemas` (every
 * subject version, filtered and paged), a schema by id (`/schemas/ids/{id}`
 * with `?subject=` and `?format=`, its bare text, its subjects, its subject
 * versions) and by guid. `GET /schemas/ids/{id}` is what every deserializer
 * asks: without a query it parses nothing but the id and answers the body
 * memoised on the record the port returns.
 */

import { narrowedPrefix, subjectFilter } from "../auth/scope.ts";
import { json, jsonText } from "./media.ts";
import { flag, integerQuery, parseSchemaId } from "./params.ts";
import {
  SCHEMA_TYPE_NAMES,
  schemaStringBody,
  schemaStringShape,
  subjectVersionShape,
} from "./representation.ts";
import { type ConfluentRoute, pathParam } from "./route-table.ts";

const TYPES_BODY = JSON.stringify(SCHEMA_TYPE_NAMES);

export const schemaRoutes: ConfluentRoute[] = [
  { method: "GET", path: "/schemas/types", handler: () => jsonText(TYPES_BODY) },
  {
    method: "GET",
    path: "/schemas",
    handler: async (c, registry) => {
      const subjectPrefix = narrowedPrefix(c, c.req.query("subjectPrefix"));
      const limit = integerQuery(c, "limit", -1);
      const visible = subjectFilter(c);
      const schemas = await registry.listSchemas({
        ...(subjectPrefix ? { subjectPrefix } : {}),
        includeDeleted: flag(c, "deleted"),
        latestOnly: flag(c, "latestOnly"),
        offset: integerQuery(c, "offset", 0),
        ...(limit > 0 ? { limit } : {}),
      });
      const seen = visible ? schemas.filter((schema) => visible(schema.subject ?? "")) : schemas;
      return json(seen.map((schema) => subjectVersionShape(schema)));
    },
  },
  {
    method: "GET",
    path: "/schemas/ids/:id",
    handler: async (c, registry) => {
      const id = parseSchemaId(pathParam(c, "id"));
      // The hot path: no query string, nothing to read but the id.
      if (!c.req.url.includes("?")) return jsonText(schemaStringBody(await registry.schemaById(id)));
      const subject = c.req.query("subject");
      const format = c.req.query("format");
      const schema = await registry.schemaById(id, {
        ...(subject ? { subject } : {}),
        ...(format ? { format } : {}),
      });
      return format ? json(schemaStringShape(schema)) : jsonText(schemaStringBody(schema));
    },
  },
  {
    method: "GET",
    path: "/schemas/ids/:id/schema",
    handler: async (c, registry) => {
      const id = parseSchemaId(pathParam(c, "id"));
      const subject = c.req.query("subject");
      const format = c.req.query("format");
      const schema = await registry.schemaById(id, {
        ...(subject ? { subject } : {}),
        ...(format ? { format } : {}),
      });
      return jsonText(schema.schema);
    },
  },
  {
    method: "GET",
    path: "/schemas/ids/:id/subjects",
    handler: async (c, registry) => {
      const id = parseSchemaId(pathParam(c, "id"));
      const subjects = await registry.subjectsOfSchema(id, { includeDeleted: flag(c, "deleted") });
      const visible = subjectFilter(c);
      return json(visible ? subjects.filter(visible) : subjects);
    },
  },
  {
    method: "GET",
    path: "/schemas/ids/:id/versions",
    handler: async (c, registry) => {
      const id = parseSchemaId(pathParam(c, "id"));
      const pairs = await registry.versionsOfSchema(id, { includeDeleted: flag(c, "deleted") });
      const visible = subjectFilter(c);
      const seen = visible ? pairs.filter((pair) => visible(pair.subject)) : pairs;
      return json(seen.map(({ subject, version }) => ({ subject, version })));
    },
  },
  {
    method: "GET",
    path: "/schemas/guids/:guid",
    handler: async (c, registry) =>
      jsonText(schemaStringBody(await registry.schemaByGuid(pathParam(c, "guid")))),
  },
];
