/**
 * Each schema type's compatibility rules. Loaded by `import()` from index.ts
 * (createCompatibilityEngine), so the parsers they bring (avsc, protobufjs,
 * ajv) load on the first compatibility check, not with the registry.
 */
import type { SchemaType } from "../types.ts";
import { avroRules } from "./avro.ts";
import { jsonSchemaRules } from "./json-schema.ts";
import { protobufRules } from "./protobuf.ts";
import type { CompatibilityRules } from "./types.ts";

export const RULES_BY_TYPE: Readonly<Record<SchemaType, CompatibilityRules>> = {
  json: jsonSchemaRules as CompatibilityRules,
  avro: avroRules as CompatibilityRules,
  protobuf: protobufRules as CompatibilityRules,
};
