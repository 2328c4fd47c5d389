/**
 * JSON Schema compatibility rules: a case table of reader/writer pairs and the rule ids each must yield
 * (the reader must accept everything the writer allows), then sameMeaning, references by name,
 * recursive schemas, the rule table and a timing sanity check.
 */
import { describe, expect, test } from "bun:test";
import { jsonSchemaRules, RULES } from "../../../src/domain/compatibility/json-schema.ts";
import type { Violation } from "../../../src/domain/compatibility/types.ts";
import { validateJsonSchema } from "../../../src/domain/validation/json-schema.ts";

type Reference = { name: string; content: unknown };

interface Case {
  /** The rule the case exercises, or "compatible". */
  rule: string;
  name: string;
  reader: unknown;
  writer: unknown;
  expect: string[];
  /** The path every violation must have, when the case pins it. */
  path?: string;
  readerRefs?: Reference[];
  writerRefs?: Reference[];
  /** Uses draft-04 spellings no supported meta-schema accepts, so it skips the validity check. */
  draft04?: boolean;
}

const D7 = "http://json-schema.org/draft-07/schema#";
const D2020 = "https://json-schema.org/draft/2020-12/schema";

const str = { type: "string" };
const int = { type: "integer" };
const num = { type: "number" };
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  ...extra,
});
const arr = (extra: Record<string, unknown>) => ({ type: "array", ...extra });
const conditional = (base: object, ifSchema: unknown, thenSchema: unknown, elseSchema?: unknown) => ({
  ...base,
  if: ifSchema,
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword; the object is never awaited.
  then: thenSchema,
  ...(elseSchema === undefined ? {} : { else: elseSchema }),
});

const cases: Case[] = [
  // Boolean schemas and the empty schema.
  {
    rule: "compatible",
    name: "identical object schemas",
    reader: obj({ a: str }),
    writer: obj({ a: str }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader true accepts anything",
    reader: true,
    writer: obj({ a: str }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader {} accepts anything",
    reader: {},
    writer: arr({ items: int }),
    expect: [],
  },
  { rule: "compatible", name: "writer false produces nothing", reader: str, writer: false, expect: [] },
  { rule: "compatible", name: "reader true, writer false", reader: true, writer: false, expect: [] },
  {
    rule: "false_schema",
    name: "reader false, writer true",
    reader: false,
    writer: true,
    expect: ["false_schema"],
    path: "#",
  },
  {
    rule: "false_schema",
    name: "reader false, writer a string",
    reader: false,
    writer: str,
    expect: ["false_schema"],
  },
  {
    rule: "type_narrowed",
    name: "reader typed, writer true",
    reader: str,
    writer: true,
    expect: ["type_narrowed"],
    path: "#",
  },

  // Types.
  {
    rule: "compatible",
    name: "string widened to string or null",
    reader: { type: ["string", "null"] },
    writer: str,
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "string or null narrowed to string",
    reader: str,
    writer: { type: ["string", "null"] },
    expect: ["type_narrowed"],
    path: "#",
  },
  { rule: "compatible", name: "integer widened to number", reader: num, writer: int, expect: [] },
  {
    rule: "type_narrowed",
    name: "number narrowed to integer",
    reader: int,
    writer: num,
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "integer changed to string",
    reader: str,
    writer: int,
    expect: ["type_narrowed"],
  },
  {
    rule: "compatible",
    name: "integer and number read as number",
    reader: num,
    writer: { type: ["integer", "number"] },
    expect: [],
  },
  {
    rule: "compatible",
    name: "untyped string enum read as string",
    reader: str,
    writer: { enum: ["a", "b"] },
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "mixed enum read as string rejects the number",
    reader: str,
    writer: { enum: ["a", 1] },
    expect: ["type_narrowed"],
  },
  {
    rule: "compatible",
    name: "boolean read as enum of both values",
    reader: { enum: [true, false] },
    writer: { type: "boolean" },
    expect: [],
  },
  {
    rule: "const_added",
    name: "boolean read as const true",
    reader: { const: true },
    writer: { type: "boolean" },
    expect: ["const_added"],
  },
  {
    rule: "type_narrowed",
    name: "property type changed",
    reader: obj({ age: str }),
    writer: obj({ age: int }),
    expect: ["type_narrowed"],
    path: "#/properties/age",
  },
  {
    rule: "compatible",
    name: "property integer widened to number",
    reader: obj({ age: num }),
    writer: obj({ age: int }),
    expect: [],
  },

  // enum and const.
  {
    rule: "compatible",
    name: "enum value added",
    reader: { enum: ["a", "b", "c"] },
    writer: { enum: ["a", "b"] },
    expect: [],
  },
  {
    rule: "enum_value_removed",
    name: "enum value removed",
    reader: { enum: ["a"] },
    writer: { enum: ["a", "b"] },
    expect: ["enum_value_removed"],
    path: "#",
  },
  {
    rule: "compatible",
    name: "enum reordered",
    reader: { enum: ["b", "a"] },
    writer: { enum: ["a", "b"] },
    expect: [],
  },
  {
    rule: "enum_added",
    name: "enum added to a free string",
    reader: { type: "string", enum: ["a"] },
    writer: str,
    expect: ["enum_added"],
  },
  {
    rule: "const_changed",
    name: "const changed",
    reader: { const: "b" },
    writer: { const: "a" },
    expect: ["const_changed"],
  },
  {
    rule: "compatible",
    name: "const widened to an enum",
    reader: { enum: ["a", "b"] },
    writer: { const: "a" },
    expect: [],
  },
  {
    rule: "const_changed",
    name: "enum narrowed to a const",
    reader: { const: "a" },
    writer: { enum: ["a", "b"] },
    expect: ["const_changed"],
  },
  {
    rule: "const_added",
    name: "const added to a free string",
    reader: { type: "string", const: "a" },
    writer: str,
    expect: ["const_added"],
  },
  {
    rule: "compatible",
    name: "const unchanged, description changed",
    reader: { const: "a", description: "new" },
    writer: { const: "a", description: "old" },
    expect: [],
  },
  {
    rule: "enum_value_removed",
    name: "object enum value removed",
    reader: { enum: [{ a: 1 }] },
    writer: { enum: [{ a: 1 }, { a: 2 }] },
    expect: ["enum_value_removed"],
  },
  {
    rule: "compatible",
    name: "enum values within the reader's new bounds",
    reader: { type: "integer", minimum: 1, maximum: 5 },
    writer: { enum: [1, 2] },
    expect: [],
  },
  {
    rule: "maximum_decreased",
    name: "enum value above the reader's new maximum",
    reader: { type: "integer", maximum: 5 },
    writer: { enum: [1, 10] },
    expect: ["maximum_decreased"],
  },
  {
    rule: "max_length_decreased",
    name: "enum value longer than the reader's new maxLength",
    reader: { maxLength: 4 },
    writer: { enum: ["abc", "abcdef"] },
    expect: ["max_length_decreased"],
  },
  {
    rule: "enum_value_removed",
    name: "property enum value removed",
    reader: obj({ status: { enum: ["active"] } }),
    writer: obj({ status: { enum: ["active", "retired"] } }),
    expect: ["enum_value_removed"],
    path: "#/properties/status",
  },

  // Numbers.
  {
    rule: "minimum_increased",
    name: "minimum raised",
    reader: { type: "number", minimum: 1 },
    writer: { type: "number", minimum: 0 },
    expect: ["minimum_increased"],
  },
  {
    rule: "compatible",
    name: "minimum lowered",
    reader: { type: "number", minimum: -1 },
    writer: { type: "number", minimum: 0 },
    expect: [],
  },
  {
    rule: "compatible",
    name: "minimum removed",
    reader: num,
    writer: { type: "number", minimum: 0 },
    expect: [],
  },
  {
    rule: "minimum_increased",
    name: "minimum added",
    reader: { type: "number", minimum: 0 },
    writer: num,
    expect: ["minimum_increased"],
  },
  {
    rule: "maximum_decreased",
    name: "maximum lowered",
    reader: { type: "number", maximum: 50 },
    writer: { type: "number", maximum: 100 },
    expect: ["maximum_decreased"],
  },
  {
    rule: "compatible",
    name: "maximum raised",
    reader: { type: "number", maximum: 200 },
    writer: { type: "number", maximum: 100 },
    expect: [],
  },
  {
    rule: "maximum_decreased",
    name: "maximum added",
    reader: { type: "integer", maximum: 9 },
    writer: int,
    expect: ["maximum_decreased"],
  },
  {
    rule: "minimum_increased",
    name: "minimum made exclusive (draft-06+ number form)",
    reader: { type: "number", exclusiveMinimum: 0 },
    writer: { type: "number", minimum: 0 },
    expect: ["minimum_increased"],
  },
  {
    rule: "compatible",
    name: "exclusive minimum made inclusive",
    reader: { type: "number", minimum: 0 },
    writer: { type: "number", exclusiveMinimum: 0 },
    expect: [],
  },
  {
    rule: "compatible",
    name: "integer exclusiveMinimum 0 read as minimum 1",
    reader: { type: "integer", minimum: 1 },
    writer: { type: "integer", exclusiveMinimum: 0 },
    expect: [],
  },
  {
    rule: "minimum_increased",
    name: "minimum made exclusive (draft-04 boolean form)",
    reader: { type: "number", minimum: 0, exclusiveMinimum: true },
    writer: { type: "number", minimum: 0 },
    expect: ["minimum_increased"],
    draft04: true,
  },
  {
    rule: "compatible",
    name: "exclusive maximum made inclusive (draft-04 boolean form)",
    reader: { type: "number", maximum: 10 },
    writer: { type: "number", maximum: 10, exclusiveMaximum: true },
    expect: [],
    draft04: true,
  },
  {
    rule: "maximum_decreased",
    name: "maximum made exclusive (draft-04 boolean form)",
    reader: { type: "number", maximum: 10, exclusiveMaximum: true },
    writer: { type: "number", maximum: 10 },
    expect: ["maximum_decreased"],
    draft04: true,
  },
  {
    rule: "maximum_decreased",
    name: "exclusiveMaximum lowered",
    reader: { type: "number", exclusiveMaximum: 5 },
    writer: { type: "number", exclusiveMaximum: 6 },
    expect: ["maximum_decreased"],
  },
  {
    rule: "multiple_of_changed",
    name: "multipleOf added",
    reader: { type: "integer", multipleOf: 5 },
    writer: int,
    expect: ["multiple_of_changed"],
  },
  {
    rule: "compatible",
    name: "multipleOf 4 read as multipleOf 2",
    reader: { type: "integer", multipleOf: 2 },
    writer: { type: "integer", multipleOf: 4 },
    expect: [],
  },
  {
    rule: "multiple_of_changed",
    name: "multipleOf 2 read as multipleOf 4",
    reader: { type: "integer", multipleOf: 4 },
    writer: { type: "integer", multipleOf: 2 },
    expect: ["multiple_of_changed"],
  },
  {
    rule: "compatible",
    name: "multipleOf 0.5 read as multipleOf 0.25",
    reader: { type: "number", multipleOf: 0.25 },
    writer: { type: "number", multipleOf: 0.5 },
    expect: [],
  },
  {
    rule: "compatible",
    name: "integers read as multipleOf 1",
    reader: { type: "number", multipleOf: 1 },
    writer: int,
    expect: [],
  },
  {
    rule: "compatible",
    name: "numeric bounds do not apply to a string writer",
    reader: { type: ["string", "number"], minimum: 5 },
    writer: str,
    expect: [],
  },

  // Strings.
  {
    rule: "max_length_decreased",
    name: "maxLength lowered",
    reader: obj({ name: { type: "string", maxLength: 5 } }),
    writer: obj({ name: { type: "string", maxLength: 10 } }),
    expect: ["max_length_decreased"],
    path: "#/properties/name",
  },
  {
    rule: "compatible",
    name: "maxLength raised",
    reader: { type: "string", maxLength: 10 },
    writer: { type: "string", maxLength: 5 },
    expect: [],
  },
  {
    rule: "max_length_decreased",
    name: "maxLength added",
    reader: { type: "string", maxLength: 10 },
    writer: str,
    expect: ["max_length_decreased"],
  },
  {
    rule: "min_length_increased",
    name: "minLength raised",
    reader: { type: "string", minLength: 3 },
    writer: { type: "string", minLength: 1 },
    expect: ["min_length_increased"],
  },
  {
    rule: "compatible",
    name: "minLength removed",
    reader: str,
    writer: { type: "string", minLength: 1 },
    expect: [],
  },
  {
    rule: "pattern_changed",
    name: "pattern added",
    reader: { type: "string", pattern: "^[a-z]+$" },
    writer: str,
    expect: ["pattern_changed"],
  },
  {
    rule: "pattern_changed",
    name: "pattern changed",
    reader: { type: "string", pattern: "^[a-z]+$" },
    writer: { type: "string", pattern: "^[a-z0-9]+$" },
    expect: ["pattern_changed"],
  },
  {
    rule: "compatible",
    name: "pattern removed",
    reader: str,
    writer: { type: "string", pattern: "^[a-z]+$" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "pattern unchanged",
    reader: { type: "string", pattern: "^[a-z]+$" },
    writer: { type: "string", pattern: "^[a-z]+$" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "pattern that matches everything",
    reader: { type: "string", pattern: "^.*$" },
    writer: str,
    expect: [],
  },
  {
    rule: "format_changed",
    name: "format added",
    reader: { type: "string", format: "email" },
    writer: str,
    expect: ["format_changed"],
  },
  {
    rule: "format_changed",
    name: "format changed",
    reader: { type: "string", format: "uri" },
    writer: { type: "string", format: "email" },
    expect: ["format_changed"],
  },
  {
    rule: "compatible",
    name: "format removed",
    reader: str,
    writer: { type: "string", format: "date-time" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "format widened from uri to uri-reference",
    reader: { type: "string", format: "uri-reference" },
    writer: { type: "string", format: "uri" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "string bounds do not apply to a number writer",
    reader: { type: ["number", "string"], maxLength: 3 },
    writer: num,
    expect: [],
  },

  // Arrays.
  {
    rule: "type_narrowed",
    name: "items type changed",
    reader: arr({ items: int }),
    writer: arr({ items: str }),
    expect: ["type_narrowed"],
    path: "#/items",
  },
  {
    rule: "compatible",
    name: "items widened from integer to number",
    reader: arr({ items: num }),
    writer: arr({ items: int }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "items schema added",
    reader: arr({ items: str }),
    writer: arr({}),
    expect: ["type_narrowed"],
    path: "#/items",
  },
  {
    rule: "compatible",
    name: "items schema removed",
    reader: arr({}),
    writer: arr({ items: str }),
    expect: [],
  },
  {
    rule: "min_items_increased",
    name: "minItems raised",
    reader: arr({ minItems: 2 }),
    writer: arr({ minItems: 1 }),
    expect: ["min_items_increased"],
  },
  {
    rule: "max_items_decreased",
    name: "maxItems lowered",
    reader: arr({ maxItems: 3 }),
    writer: arr({ maxItems: 5 }),
    expect: ["max_items_decreased"],
  },
  {
    rule: "compatible",
    name: "maxItems raised",
    reader: arr({ maxItems: 10 }),
    writer: arr({ maxItems: 5 }),
    expect: [],
  },
  {
    rule: "unique_items_added",
    name: "uniqueItems added",
    reader: arr({ uniqueItems: true }),
    writer: arr({}),
    expect: ["unique_items_added"],
  },
  {
    rule: "compatible",
    name: "uniqueItems removed",
    reader: arr({}),
    writer: arr({ uniqueItems: true }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "uniqueItems added where the writer allows one item",
    reader: arr({ uniqueItems: true }),
    writer: arr({ maxItems: 1 }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "draft-07 tuple position narrowed",
    reader: { $schema: D7, type: "array", items: [str, str] },
    writer: { $schema: D7, type: "array", items: [str, int] },
    expect: ["type_narrowed"],
    path: "#/items/1",
  },
  {
    rule: "items_narrowed",
    name: "draft-07 additionalItems false added",
    reader: { $schema: D7, type: "array", items: [str], additionalItems: false },
    writer: { $schema: D7, type: "array", items: [str] },
    expect: ["items_narrowed"],
    path: "#/additionalItems",
  },
  {
    rule: "compatible",
    name: "draft-07 additionalItems false removed",
    reader: { $schema: D7, type: "array", items: [str] },
    writer: { $schema: D7, type: "array", items: [str], additionalItems: false },
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "2020-12 prefixItems position narrowed",
    reader: arr({ prefixItems: [str, int] }),
    writer: arr({ prefixItems: [str, num] }),
    expect: ["type_narrowed"],
    path: "#/prefixItems/1",
  },
  {
    rule: "items_narrowed",
    name: "2020-12 items false added after prefixItems",
    reader: arr({ prefixItems: [str], items: false }),
    writer: arr({ prefixItems: [str] }),
    expect: ["items_narrowed"],
    path: "#/items",
  },
  {
    rule: "compatible",
    name: "2020-12 closed tuple opened",
    reader: arr({ prefixItems: [str] }),
    writer: arr({ prefixItems: [str], items: false }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "draft-07 tuple read as the same 2020-12 tuple",
    reader: { $schema: D2020, type: "array", prefixItems: [str, num], items: false },
    writer: { $schema: D7, type: "array", items: [str, num], additionalItems: false },
    expect: [],
  },
  {
    rule: "items_narrowed",
    name: "closed tuple shortened",
    reader: arr({ prefixItems: [str], items: false }),
    writer: arr({ prefixItems: [str, str], items: false }),
    expect: ["items_narrowed"],
  },
  {
    rule: "compatible",
    name: "tuple position read by the reader's items schema",
    reader: arr({ prefixItems: [str], items: num }),
    writer: arr({ prefixItems: [str, int], items: false }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "tuple position beyond the reader's prefix read by a narrower items",
    reader: arr({ prefixItems: [str], items: int }),
    writer: arr({ prefixItems: [str, str], items: false }),
    expect: ["type_narrowed"],
    path: "#/items",
  },
  {
    rule: "contains_narrowed",
    name: "contains added",
    reader: arr({ contains: str }),
    writer: arr({}),
    expect: ["contains_narrowed"],
  },
  {
    rule: "compatible",
    name: "contains widened",
    reader: arr({ contains: str }),
    writer: arr({ contains: { const: "x" } }),
    expect: [],
  },
  {
    rule: "contains_narrowed",
    name: "contains narrowed",
    reader: arr({ contains: { const: "x" } }),
    writer: arr({ contains: str }),
    expect: ["contains_narrowed"],
  },
  {
    rule: "compatible",
    name: "minContains lowered",
    reader: arr({ contains: str }),
    writer: arr({ contains: str, minContains: 2 }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "contains guaranteed by every item and minItems",
    reader: arr({ contains: str }),
    writer: arr({ items: str, minItems: 1 }),
    expect: [],
  },

  // Object content model.
  {
    rule: "compatible",
    name: "optional property added to an implicitly open model",
    reader: obj({ a: str, b: int }),
    writer: obj({ a: str }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "optional property added where additionalProperties is true",
    reader: obj({ a: str, b: int }, { additionalProperties: true }),
    writer: obj({ a: str }, { additionalProperties: true }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "property added against the writer's additionalProperties schema",
    reader: obj({ a: str, n: int }, { additionalProperties: str }),
    writer: obj({ a: str }, { additionalProperties: str }),
    expect: ["type_narrowed"],
    path: "#/properties/n",
  },
  {
    rule: "compatible",
    name: "property added that accepts the writer's additionalProperties schema",
    reader: obj({ a: str, n: { type: "string", description: "now named" } }, { additionalProperties: str }),
    writer: obj({ a: str }, { additionalProperties: str }),
    expect: [],
  },
  {
    rule: "max_length_decreased",
    name: "property added under the writer's patternProperties",
    reader: {
      type: "object",
      properties: { "x-tag": { type: "string", maxLength: 3 } },
      patternProperties: { "^x-": str },
    },
    writer: { type: "object", patternProperties: { "^x-": str } },
    expect: ["max_length_decreased"],
    path: "#/properties/x-tag",
  },
  {
    rule: "compatible",
    name: "property removed from an open model",
    reader: obj({ a: str }),
    writer: obj({ a: str, b: int }),
    expect: [],
  },
  {
    rule: "property_removed_from_closed_model",
    name: "property removed from a closed model",
    reader: obj({ a: str }, { additionalProperties: false }),
    writer: obj({ a: str, b: int }, { additionalProperties: false }),
    expect: ["property_removed_from_closed_model"],
    path: "#/properties/b",
  },
  {
    rule: "content_model_closed",
    name: "open model closed",
    reader: obj({ a: str }, { additionalProperties: false }),
    writer: obj({ a: str }),
    expect: ["content_model_closed"],
    path: "#",
  },
  {
    rule: "compatible",
    name: "closed model opened",
    reader: obj({ a: str }),
    writer: obj({ a: str }, { additionalProperties: false }),
    expect: [],
  },
  {
    rule: "additional_properties_narrowed",
    name: "additionalProperties schema added to an open model",
    reader: obj({ a: str }, { additionalProperties: str }),
    writer: obj({ a: str }),
    expect: ["additional_properties_narrowed"],
    path: "#/additionalProperties",
  },
  {
    rule: "compatible",
    name: "additionalProperties schema widened",
    reader: obj({}, { additionalProperties: { type: ["string", "null"] } }),
    writer: obj({}, { additionalProperties: str }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "additionalProperties schema narrowed",
    reader: obj({}, { additionalProperties: str }),
    writer: obj({}, { additionalProperties: { type: ["string", "null"] } }),
    expect: ["type_narrowed"],
    path: "#/additionalProperties",
  },
  {
    rule: "content_model_closed",
    name: "additionalProperties schema replaced by false",
    reader: obj({}, { additionalProperties: false }),
    writer: obj({}, { additionalProperties: str }),
    expect: ["content_model_closed"],
  },
  {
    rule: "compatible",
    name: "property added to a closed model (the writer never sends it)",
    reader: obj({ a: str, b: int }, { additionalProperties: false }),
    writer: obj({ a: str }, { additionalProperties: false }),
    expect: [],
  },
  {
    rule: "property_forbidden",
    name: "declared property made false",
    reader: obj({ a: str, b: false }),
    writer: obj({ a: str, b: int }),
    expect: ["property_forbidden"],
    path: "#/properties/b",
  },
  {
    rule: "compatible",
    name: "undeclared property forbidden in an open model",
    reader: obj({ a: str, b: false }),
    writer: obj({ a: str }),
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "nested property narrowed",
    reader: obj({ address: obj({ zip: int }) }),
    writer: obj({ address: obj({ zip: str }) }),
    expect: ["type_narrowed"],
    path: "#/properties/address/properties/zip",
  },
  {
    rule: "type_narrowed",
    name: "patternProperties schema narrowed",
    reader: { type: "object", patternProperties: { "^s_": int } },
    writer: { type: "object", patternProperties: { "^s_": str } },
    expect: ["type_narrowed"],
    path: "#/patternProperties/^s_",
  },
  {
    rule: "compatible",
    name: "patternProperties unchanged but documented",
    reader: { type: "object", patternProperties: { "^s_": { type: "string", description: "s" } } },
    writer: { type: "object", patternProperties: { "^s_": str } },
    expect: [],
  },
  {
    rule: "property_removed_from_closed_model",
    name: "pattern family dropped from a closed model",
    reader: obj({ a: str }, { additionalProperties: false }),
    writer: obj({ a: str }, { patternProperties: { "^x-": {} }, additionalProperties: false }),
    expect: ["property_removed_from_closed_model"],
  },
  {
    rule: "type_narrowed",
    name: "pattern property added against the writer's additionalProperties schema",
    reader: { type: "object", patternProperties: { "^n_": int }, additionalProperties: str },
    writer: { type: "object", additionalProperties: str },
    expect: ["type_narrowed"],
    path: "#/patternProperties/^n_",
  },
  {
    rule: "compatible",
    name: "pattern property added to an implicitly open model",
    reader: { type: "object", patternProperties: { "^n_": int } },
    writer: { type: "object" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "disjoint reader pattern added beside a writer pattern",
    reader: { type: "object", patternProperties: { "^x-": str, "^y-": int } },
    writer: { type: "object", patternProperties: { "^x-": str } },
    expect: [],
  },
  {
    rule: "compatible",
    name: "2020-12 unevaluatedProperties false on both sides with $ref",
    reader: {
      $defs: { Base: obj({ id: str }) },
      $ref: "#/$defs/Base",
      properties: { name: str },
      unevaluatedProperties: false,
    },
    writer: {
      $defs: { Base: obj({ id: str }) },
      $ref: "#/$defs/Base",
      properties: { name: str },
      unevaluatedProperties: false,
    },
    expect: [],
  },
  {
    rule: "content_model_closed",
    name: "2020-12 unevaluatedProperties false added",
    reader: {
      $defs: { Base: obj({ id: str }) },
      $ref: "#/$defs/Base",
      properties: { name: str },
      unevaluatedProperties: false,
    },
    writer: { $defs: { Base: obj({ id: str }) }, $ref: "#/$defs/Base", properties: { name: str } },
    expect: ["content_model_closed"],
  },
  {
    rule: "min_properties_increased",
    name: "minProperties raised",
    reader: obj({}, { minProperties: 2 }),
    writer: obj({}, { minProperties: 1 }),
    expect: ["min_properties_increased"],
  },
  {
    rule: "compatible",
    name: "minProperties guaranteed by required",
    reader: obj({ a: str, b: str }, { minProperties: 2 }),
    writer: obj({ a: str, b: str }, { required: ["a", "b"] }),
    expect: [],
  },
  {
    rule: "max_properties_decreased",
    name: "maxProperties added to an open model",
    reader: obj({}, { maxProperties: 5 }),
    writer: obj({}),
    expect: ["max_properties_decreased"],
  },
  {
    rule: "compatible",
    name: "maxProperties added to a closed model with as many properties",
    reader: obj({ a: str, b: str }, { maxProperties: 2 }),
    writer: obj({ a: str, b: str }, { additionalProperties: false }),
    expect: [],
  },
  {
    rule: "property_names_narrowed",
    name: "propertyNames rejects a declared name",
    reader: obj({ long_name: str }, { propertyNames: { maxLength: 4 } }),
    writer: obj({ long_name: str }),
    expect: ["property_names_narrowed"],
    path: "#/propertyNames",
  },
  {
    rule: "compatible",
    name: "propertyNames unchanged",
    reader: obj({ abc: str }, { propertyNames: { pattern: "^[a-z]+$" } }),
    writer: obj({ abc: str }, { propertyNames: { pattern: "^[a-z]+$" } }),
    expect: [],
  },
  {
    rule: "property_names_narrowed",
    name: "propertyNames added where additionalProperties is constrained",
    reader: obj({}, { propertyNames: { maxLength: 4 }, additionalProperties: str }),
    writer: obj({}, { additionalProperties: str }),
    expect: ["property_names_narrowed"],
  },

  // required.
  {
    rule: "required_property_added",
    name: "optional property made required",
    reader: obj({ email: str }, { required: ["email"] }),
    writer: obj({ email: str }),
    expect: ["required_property_added"],
    path: "#/properties/email",
  },
  {
    rule: "compatible",
    name: "required property made optional",
    reader: obj({ email: str }),
    writer: obj({ email: str }, { required: ["email"] }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "requirement kept",
    reader: obj({ email: str, name: str }, { required: ["email"] }),
    writer: obj({ email: str }, { required: ["email"] }),
    expect: [],
  },
  {
    rule: "required_property_added",
    name: "new property added as required",
    reader: obj({ a: str, b: str }, { required: ["b"] }),
    writer: obj({ a: str }),
    expect: ["required_property_added"],
    path: "#/properties/b",
  },
  {
    rule: "required_property_added",
    name: "nested requirement added",
    reader: obj({ address: obj({ zip: str }, { required: ["zip"] }) }),
    writer: obj({ address: obj({ zip: str }) }),
    expect: ["required_property_added"],
    path: "#/properties/address/properties/zip",
  },
  {
    rule: "required_property_added",
    name: "required property the writer forbids",
    reader: obj({ a: str }, { required: ["a"] }),
    writer: obj({ a: false }),
    expect: ["required_property_added"],
  },
  {
    rule: "dependency_added",
    name: "dependentRequired added",
    reader: obj({ card: str, billing: str }, { dependentRequired: { card: ["billing"] } }),
    writer: obj({ card: str, billing: str }),
    expect: ["dependency_added"],
  },
  {
    rule: "compatible",
    name: "2020-12 dependentRequired read as draft-07 dependencies",
    reader: { $schema: D7, ...obj({ card: str, billing: str }), dependencies: { card: ["billing"] } },
    writer: obj({ card: str, billing: str }, { dependentRequired: { card: ["billing"] } }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "dependentRequired removed",
    reader: obj({ card: str, billing: str }),
    writer: obj({ card: str, billing: str }, { dependentRequired: { card: ["billing"] } }),
    expect: [],
  },
  {
    rule: "dependency_added",
    name: "dependentSchemas added",
    reader: obj({ card: str }, { dependentSchemas: { card: { required: ["billing"] } } }),
    writer: obj({ card: str }),
    expect: ["dependency_added"],
  },

  // $ref.
  {
    rule: "compatible",
    name: "$ref to identical $defs",
    reader: { $defs: { Name: str }, ...obj({ name: { $ref: "#/$defs/Name" } }) },
    writer: { $defs: { Name: str }, ...obj({ name: { $ref: "#/$defs/Name" } }) },
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "narrowing inside a $ref target is reported at the target",
    reader: { $defs: { Address: obj({ zip: int }) }, ...obj({ home: { $ref: "#/$defs/Address" } }) },
    writer: { $defs: { Address: obj({ zip: str }) }, ...obj({ home: { $ref: "#/$defs/Address" } }) },
    expect: ["type_narrowed"],
    path: "#/$defs/Address/properties/zip",
  },
  {
    rule: "compatible",
    name: "inline schema moved into $defs",
    reader: { $defs: { Address: obj({ zip: str }) }, ...obj({ home: { $ref: "#/$defs/Address" } }) },
    writer: obj({ home: obj({ zip: str }) }),
    expect: [],
  },
  {
    rule: "max_length_decreased",
    name: "draft-07 definitions name with ~1 escape",
    reader: {
      $schema: D7,
      definitions: { "a/b": { type: "string", maxLength: 3 } },
      ...obj({ p: { $ref: "#/definitions/a~1b" } }),
    },
    writer: { $schema: D7, definitions: { "a/b": str }, ...obj({ p: { $ref: "#/definitions/a~1b" } }) },
    expect: ["max_length_decreased"],
    path: "#/definitions/a~1b",
  },
  {
    rule: "max_length_decreased",
    name: "$defs name with ~0 escape",
    reader: { $defs: { "a~b": { type: "string", maxLength: 3 } }, ...obj({ p: { $ref: "#/$defs/a~0b" } }) },
    writer: obj({ p: str }),
    expect: ["max_length_decreased"],
    path: "#/$defs/a~0b",
  },
  {
    rule: "max_length_decreased",
    name: "$ref to a property by JSON pointer",
    reader: obj({ a: { type: "string", maxLength: 3 }, b: { $ref: "#/properties/a" } }),
    writer: obj({ a: { type: "string", maxLength: 3 }, b: str }),
    expect: ["max_length_decreased"],
    path: "#/properties/a",
  },
  {
    rule: "compatible",
    name: "draft-07 ignores siblings of $ref",
    reader: {
      $schema: D7,
      definitions: { s: str },
      ...obj({ a: { $ref: "#/definitions/s", maxLength: 1 } }),
    },
    writer: { $schema: D7, ...obj({ a: str }) },
    expect: [],
  },
  {
    rule: "max_length_decreased",
    name: "2020-12 applies siblings of $ref",
    reader: { $defs: { s: str }, ...obj({ a: { $ref: "#/$defs/s", maxLength: 1 } }) },
    writer: obj({ a: str }),
    expect: ["max_length_decreased"],
    path: "#/properties/a",
  },
  {
    rule: "max_length_decreased",
    name: "$ref to a plain-name anchor",
    reader: {
      $defs: { A: { $anchor: "code", type: "string", maxLength: 2 } },
      ...obj({ a: { $ref: "#code" } }),
    },
    writer: obj({ a: str }),
    expect: ["max_length_decreased"],
    path: "#/$defs/A",
  },
  {
    rule: "reference_unresolved",
    name: "reader refers to a schema it does not carry",
    reader: obj({ a: { $ref: "https://example.com/unknown.json" } }),
    writer: obj({ a: str }),
    expect: ["reference_unresolved"],
    path: "#/properties/a",
  },
  {
    rule: "reference_unresolved",
    name: "writer refers to a schema it does not carry",
    reader: obj({ a: str }),
    writer: obj({ a: { $ref: "https://example.com/unknown.json" } }),
    expect: ["reference_unresolved"],
    path: "#/properties/a",
  },
  {
    rule: "compatible",
    name: "both sides refer to the same unresolved schema",
    reader: obj({ a: { $ref: "https://example.com/unknown.json" } }),
    writer: obj({ a: { $ref: "https://example.com/unknown.json" } }),
    expect: [],
  },

  // Combinators.
  {
    rule: "compatible",
    name: "anyOf branch added",
    reader: { anyOf: [str, int, { type: "null" }] },
    writer: { anyOf: [str, int] },
    expect: [],
  },
  {
    rule: "any_of_branch_removed",
    name: "anyOf branch removed",
    reader: { anyOf: [str] },
    writer: { anyOf: [str, int] },
    expect: ["any_of_branch_removed"],
    path: "#",
  },
  {
    rule: "compatible",
    name: "anyOf branches reordered",
    reader: { anyOf: [int, str] },
    writer: { anyOf: [str, int] },
    expect: [],
  },
  {
    rule: "max_length_decreased",
    name: "anyOf branch narrowed is reported in the branch",
    reader: { anyOf: [{ type: "string", maxLength: 5 }, int] },
    writer: { anyOf: [{ type: "string", maxLength: 10 }, int] },
    expect: ["max_length_decreased"],
    path: "#/anyOf/0",
  },
  {
    rule: "compatible",
    name: "string widened to anyOf string or null",
    reader: { anyOf: [str, { type: "null" }] },
    writer: str,
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "two types read by an anyOf covering one",
    reader: { anyOf: [str] },
    writer: { type: ["string", "number"] },
    expect: ["type_narrowed"],
  },
  {
    rule: "compatible",
    name: "two types read by an anyOf with one branch each",
    reader: { anyOf: [str, num] },
    writer: { type: ["string", "number"] },
    expect: [],
  },
  {
    rule: "compatible",
    name: "anyOf read as a type list",
    reader: { type: ["string", "number"] },
    writer: { anyOf: [str, int] },
    expect: [],
  },
  {
    rule: "type_narrowed",
    name: "anyOf read as one of its types",
    reader: str,
    writer: { anyOf: [str, int] },
    expect: ["type_narrowed"],
  },
  {
    rule: "one_of_branch_removed",
    name: "oneOf branch removed",
    reader: { oneOf: [str] },
    writer: { oneOf: [str, int] },
    expect: ["one_of_branch_removed"],
  },
  {
    rule: "compatible",
    name: "disjoint oneOf branch added",
    reader: { oneOf: [str, int, { type: "null" }] },
    writer: { oneOf: [str, int] },
    expect: [],
  },
  {
    rule: "one_of_ambiguous",
    name: "oneOf branch added that overlaps another",
    reader: { oneOf: [str, { type: ["string", "number"] }] },
    writer: { oneOf: [str, num] },
    expect: ["one_of_ambiguous"],
  },
  {
    rule: "compatible",
    name: "nullable string spelled as anyOf read as a type list",
    reader: { type: ["string", "null"], maxLength: 5 },
    writer: { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }] },
    expect: [],
  },
  {
    rule: "compatible",
    name: "discriminated oneOf branch added",
    reader: {
      oneOf: [
        obj({ kind: { const: "a" }, x: str }, { required: ["kind"] }),
        obj({ kind: { const: "b" } }, { required: ["kind"] }),
        obj({ kind: { const: "c" } }, { required: ["kind"] }),
      ],
    },
    writer: {
      oneOf: [
        obj({ kind: { const: "a" }, x: str }, { required: ["kind"] }),
        obj({ kind: { const: "b" } }, { required: ["kind"] }),
      ],
    },
    expect: [],
  },
  {
    rule: "one_of_branch_removed",
    name: "discriminated oneOf branch removed",
    reader: { oneOf: [obj({ kind: { const: "a" } }, { required: ["kind"] })] },
    writer: {
      oneOf: [
        obj({ kind: { const: "a" } }, { required: ["kind"] }),
        obj({ kind: { const: "b" } }, { required: ["kind"] }),
      ],
    },
    expect: ["one_of_branch_removed"],
  },
  {
    rule: "compatible",
    name: "const branches read as an enum",
    reader: { enum: [1, 2, 3] },
    writer: { oneOf: [{ const: 1 }, { const: 2 }] },
    expect: [],
  },
  {
    rule: "any_of_branch_removed",
    name: "const branch removed",
    reader: { anyOf: [{ const: "a" }] },
    writer: { anyOf: [{ const: "a" }, { const: "b" }] },
    expect: ["any_of_branch_removed"],
  },
  {
    rule: "compatible",
    name: "allOf split differently",
    reader: { allOf: [{ type: "object" }, obj({ a: str })] },
    writer: obj({ a: str }),
    expect: [],
  },
  {
    rule: "required_property_added",
    name: "requirement added in an allOf member",
    reader: { type: "object", allOf: [{ required: ["a"] }] },
    writer: obj({ a: {} }),
    expect: ["required_property_added"],
    path: "#/allOf/0/properties/a",
  },
  {
    rule: "compatible",
    name: "writer's allOf members together guarantee the reader",
    reader: obj({ a: str }, { required: ["a"] }),
    writer: { allOf: [obj({ a: str }), { required: ["a"] }] },
    expect: [],
  },
  {
    rule: "compatible",
    name: "allOf member removed",
    reader: { allOf: [obj({ a: str })] },
    writer: { allOf: [obj({ a: str }), { required: ["a"] }] },
    expect: [],
  },
  {
    rule: "not_narrowed",
    name: "not added",
    reader: { not: str },
    writer: {},
    expect: ["not_narrowed"],
    path: "#/not",
  },
  {
    rule: "compatible",
    name: "not of a type the writer never produces",
    reader: { not: str },
    writer: int,
    expect: [],
  },
  {
    rule: "compatible",
    name: "not of a value the writer's enum lacks",
    reader: { not: { const: "x" } },
    writer: { enum: ["a", "b"] },
    expect: [],
  },
  {
    rule: "not_narrowed",
    name: "not of a value the writer's enum has",
    reader: { not: { enum: ["a"] } },
    writer: { enum: ["a", "b"] },
    expect: ["not_narrowed"],
  },
  {
    rule: "compatible",
    name: "not removed",
    reader: str,
    writer: { type: "string", not: { const: "" } },
    expect: [],
  },
  {
    rule: "compatible",
    name: "not narrowed to a subset of what the writer excluded",
    reader: { not: { type: "string", const: "x" } },
    writer: { not: str },
    expect: [],
  },
  {
    rule: "conditional_narrowed",
    name: "if/then added",
    reader: conditional(obj({ kind: str, a: str }), obj({ kind: { const: "a" } }, { required: ["kind"] }), {
      required: ["a"],
    }),
    writer: obj({ kind: str, a: str }),
    expect: ["conditional_narrowed"],
  },
  {
    rule: "compatible",
    name: "if/then/else unchanged",
    reader: conditional(
      { type: "object" },
      obj({ kind: { const: "a" } }),
      { required: ["a"] },
      { required: ["b"] },
    ),
    writer: conditional(
      { type: "object" },
      obj({ kind: { const: "a" } }),
      { required: ["a"] },
      { required: ["b"] },
    ),
    expect: [],
  },
  {
    rule: "compatible",
    name: "if/then whose branch the writer always satisfies",
    reader: conditional({ type: "object" }, obj({ kind: { const: "a" } }), { type: "object" }),
    writer: { type: "object" },
    expect: [],
  },

  // Documentation keywords.
  {
    rule: "compatible",
    name: "documentation keywords change freely",
    reader: {
      title: "Order",
      description: "An order, v2",
      $comment: "reviewed",
      "x-owner": { team: "payments" },
      ...obj({
        id: { type: "string", examples: ["o-2"], default: "o-0", deprecated: true, readOnly: true },
        note: { type: "string", writeOnly: true, title: "Note" },
      }),
    },
    writer: obj({ id: str, note: str }),
    expect: [],
  },

  // Realistic evolutions with several changes at once.
  {
    rule: "compatible",
    name: "several widenings at once",
    reader: obj(
      {
        id: str,
        amount: { type: "number", minimum: 0 },
        tags: arr({ items: str, maxItems: 20 }),
        status: { enum: ["new", "paid", "shipped", "cancelled"] },
        note: { type: ["string", "null"] },
      },
      { required: ["id"] },
    ),
    writer: obj(
      {
        id: str,
        amount: { type: "integer", minimum: 1 },
        tags: arr({ items: str, maxItems: 10 }),
        status: { enum: ["new", "paid", "shipped"] },
      },
      { required: ["id", "amount"] },
    ),
    expect: [],
  },
  {
    rule: "required_property_added",
    name: "several narrowings at once",
    reader: obj(
      { id: { type: "string", maxLength: 8 }, amount: int, status: { enum: ["new"] } },
      { required: ["id", "amount"], additionalProperties: false },
    ),
    writer: obj({ id: str, amount: num, status: { enum: ["new", "paid"] }, extra: str }),
    expect: [
      "required_property_added",
      "max_length_decreased",
      "type_narrowed",
      "enum_value_removed",
      "property_removed_from_closed_model",
      "content_model_closed",
    ],
  },
];

function prepare(content: unknown, references?: Reference[]) {
  return jsonSchemaRules.prepare({ content, references });
}

function check(c: Case): Violation[] {
  return jsonSchemaRules.readerViolations(prepare(c.reader, c.readerRefs), prepare(c.writer, c.writerRefs));
}

const emitted = new Set<string>();

describe("readerViolations: case table", () => {
  test("has at least 120 cases, with unique names", () => {
    expect(cases.length).toBeGreaterThanOrEqual(120);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  for (const c of cases) {
    test(`${c.rule}: ${c.name}`, () => {
      // The case states the rule it exercises.
      if (c.rule === "compatible") expect(c.expect).toEqual([]);
      else expect(c.expect).toContain(c.rule);
      // Every case is a schema the registry would accept (draft-04 spellings aside).
      if (!c.draft04) {
        validateJsonSchema(c.reader);
        validateJsonSchema(c.writer);
      }
      const violations = check(c);
      const rules = [...new Set(violations.map((v) => v.rule))].sort();
      expect(rules).toEqual([...new Set(c.expect)].sort());
      for (const violation of violations) {
        emitted.add(violation.rule);
        expect(violation.path).toMatch(/^[^#]*#(\/.*)?$/);
        expect(violation.message.length).toBeGreaterThan(20);
        expect(violation.message).toMatch(/\.$/);
        if (c.path !== undefined) expect(violation.path).toBe(c.path);
      }
    });
  }
});

describe("readerViolations: messages and names", () => {
  test("default names are the reader schema and the writer schema", () => {
    const [violation] = jsonSchemaRules.readerViolations(
      prepare(obj({ email: str }, { required: ["email"] })),
      prepare(obj({ email: str })),
    );
    expect(violation?.message).toContain("the reader schema");
    expect(violation?.message).toContain("the writer schema");
  });

  test("messages name the property and both sides as given", () => {
    const violations = jsonSchemaRules.readerViolations(
      prepare(obj({ email: str }, { required: ["email"] })),
      prepare(obj({ email: str })),
      { reader: "the new schema", writer: "version 1.2.0" },
    );
    expect(violations).toEqual([
      {
        path: "#/properties/email",
        rule: "required_property_added",
        message:
          'Property "email" is required by the new schema but version 1.2.0 does not require it, so documents written with it may lack it: make it optional, or give producers a new major version.',
      },
    ]);
  });

  test("a nested narrowing names the property and its path", () => {
    const [violation] = jsonSchemaRules.readerViolations(
      prepare(obj({ address: obj({ zip: { type: "string", maxLength: 5 } }) })),
      prepare(obj({ address: obj({ zip: { type: "string", maxLength: 10 } }) })),
      { reader: "the new schema", writer: "version 2.0.0" },
    );
    expect(violation?.message).toBe(
      'In the new schema, property "zip" (at #/properties/address/properties/zip) allows at most 5 characters, but version 2.0.0 allows up to 10, so longer strings written with it would be rejected: restore the previous maxLength, or give producers a new major version.',
    );
  });

  test("the comparison does not change the prepared forms", () => {
    const reader = prepare(obj({ a: { type: "string", maxLength: 3 } }, { required: ["a"] }));
    const writer = prepare(obj({ a: str }));
    const first = jsonSchemaRules.readerViolations(reader, writer);
    const second = jsonSchemaRules.readerViolations(reader, writer);
    expect(second).toEqual(first);
    expect(first.map((v) => v.rule).sort()).toEqual(["max_length_decreased", "required_property_added"]);
  });
});

describe("readerViolations: references by name", () => {
  const addressV1 = { type: "object", properties: { zip: { type: "string", maxLength: 10 } } };
  const addressV2 = { type: "object", properties: { zip: { type: "string", maxLength: 5 } } };
  const person = obj({ home: { $ref: "address.json" } });

  test("a $ref equal to a reference's name resolves into it, and paths carry the name", () => {
    const violations = jsonSchemaRules.readerViolations(
      prepare(person, [{ name: "address.json", content: addressV2 }]),
      prepare(person, [{ name: "address.json", content: addressV1 }]),
    );
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["max_length_decreased", "address.json#/properties/zip"],
    ]);
  });

  test("the same referenced schema on both sides is compatible", () => {
    const refs = [{ name: "address.json", content: addressV1 }];
    expect(jsonSchemaRules.readerViolations(prepare(person, refs), prepare(person, refs))).toEqual([]);
  });

  test("a widened referenced schema is compatible", () => {
    expect(
      jsonSchemaRules.readerViolations(
        prepare(person, [{ name: "address.json", content: addressV1 }]),
        prepare(person, [{ name: "address.json", content: addressV2 }]),
      ),
    ).toEqual([]);
  });

  test("a reference name followed by a fragment resolves into the referenced schema", () => {
    const common = (maxLength: number) => ({ $defs: { Zip: { type: "string", maxLength } } });
    const schema = obj({ zip: { $ref: "common.json#/$defs/Zip" } });
    const violations = jsonSchemaRules.readerViolations(
      prepare(schema, [{ name: "common.json", content: common(5) }]),
      prepare(schema, [{ name: "common.json", content: common(9) }]),
    );
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["max_length_decreased", "common.json#/$defs/Zip"],
    ]);
  });

  test("an inline writer read through a reference", () => {
    const violations = jsonSchemaRules.readerViolations(
      prepare(person, [{ name: "address.json", content: addressV2 }]),
      prepare(obj({ home: obj({ zip: str }) })),
    );
    expect(violations.map((v) => v.rule)).toEqual(["max_length_decreased"]);
  });

  test("references refer to each other transitively", () => {
    const refs = (zip: unknown) => [
      { name: "address.json", content: obj({ zip: { $ref: "zip.json" } }) },
      { name: "zip.json", content: zip },
    ];
    const violations = jsonSchemaRules.readerViolations(
      prepare(person, refs(int)),
      prepare(person, refs(str)),
    );
    expect(violations.map((v) => [v.rule, v.path])).toEqual([["type_narrowed", "zip.json#"]]);
  });

  test("a reference missing on the reader's side is reported, not guessed", () => {
    const violations = jsonSchemaRules.readerViolations(
      prepare(person),
      prepare(person, [{ name: "address.json", content: addressV1 }]),
    );
    expect(violations.map((v) => [v.rule, v.path])).toEqual([["reference_unresolved", "#/properties/home"]]);
  });
});

describe("readerViolations: recursive schemas", () => {
  const tree = (value: unknown) => ({
    $defs: { Node: obj({ value, children: arr({ items: { $ref: "#/$defs/Node" } }) }) },
    $ref: "#/$defs/Node",
  });

  test("an unchanged recursive schema terminates and is compatible", () => {
    expect(jsonSchemaRules.readerViolations(prepare(tree(str)), prepare(tree(str)))).toEqual([]);
  });

  test("a widened recursive schema is compatible", () => {
    expect(jsonSchemaRules.readerViolations(prepare(tree(num)), prepare(tree(int)))).toEqual([]);
  });

  test("a narrowed recursive schema is reported once, at the definition", () => {
    const violations = jsonSchemaRules.readerViolations(prepare(tree(int)), prepare(tree(num)));
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["type_narrowed", "#/$defs/Node/properties/value"],
    ]);
  });

  test("recursion through the root with $ref: '#'", () => {
    const list = (maxLength: number) => obj({ head: { type: "string", maxLength }, tail: { $ref: "#" } });
    expect(jsonSchemaRules.readerViolations(prepare(list(10)), prepare(list(5)))).toEqual([]);
    const violations = jsonSchemaRules.readerViolations(prepare(list(5)), prepare(list(10)));
    expect(violations.map((v) => [v.rule, v.path])).toEqual([["max_length_decreased", "#/properties/head"]]);
  });

  test("mutually recursive draft-07 definitions", () => {
    const schema = (leaf: unknown) => ({
      $schema: D7,
      definitions: {
        A: obj({ b: { $ref: "#/definitions/B" }, leaf }),
        B: obj({ a: { $ref: "#/definitions/A" } }),
      },
      $ref: "#/definitions/A",
    });
    expect(jsonSchemaRules.readerViolations(prepare(schema(num)), prepare(schema(int)))).toEqual([]);
    const violations = jsonSchemaRules.readerViolations(prepare(schema(int)), prepare(schema(num)));
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["type_narrowed", "#/definitions/A/properties/leaf"],
    ]);
  });

  test("a reference cycle of bare $refs accepts anything rather than looping", () => {
    const schema = { $defs: { A: { $ref: "#/$defs/B" }, B: { $ref: "#/$defs/A" } }, $ref: "#/$defs/A" };
    expect(jsonSchemaRules.readerViolations(prepare(schema), prepare(str))).toEqual([]);
  });
});

describe("sameMeaning", () => {
  const same = (a: unknown, b: unknown, refsA?: Reference[], refsB?: Reference[]) =>
    jsonSchemaRules.sameMeaning(prepare(a, refsA), prepare(b, refsB));
  const base = obj(
    { name: { type: "string", maxLength: 10 }, tags: arr({ items: str }) },
    { required: ["name"] },
  );

  test("identical schemas", () => expect(same(base, structuredClone(base))).toBe(true));
  test("key order", () => {
    expect(
      same(base, {
        required: ["name"],
        properties: { tags: arr({ items: str }), name: { maxLength: 10, type: "string" } },
        type: "object",
      }),
    ).toBe(true);
  });
  test("descriptions and titles", () => {
    expect(same(base, { ...base, title: "Person", description: "A person" })).toBe(true);
  });
  test("every documentation keyword, nested", () => {
    const documented = obj(
      {
        name: {
          type: "string",
          maxLength: 10,
          $comment: "c",
          examples: ["x"],
          default: "n",
          deprecated: true,
        },
        tags: arr({
          items: { type: "string", readOnly: true, writeOnly: false, "x-ui": { widget: "chips" } },
        }),
      },
      { required: ["name"], "x-owner": "team-a" },
    );
    expect(same(base, documented)).toBe(true);
  });
  test("order of required, enum and type lists", () => {
    expect(
      same(
        { type: ["string", "null"], enum: ["a", "b", null] },
        { type: ["null", "string"], enum: [null, "b", "a"] },
      ),
    ).toBe(true);
    expect(
      same(
        obj({ a: str, b: str }, { required: ["a", "b"] }),
        obj({ a: str, b: str }, { required: ["b", "a"] }),
      ),
    ).toBe(true);
  });
  test("a type string and a one-element type list", () =>
    expect(same({ type: "string" }, { type: ["string"] })).toBe(true));
  test("true and a schema with only documentation", () => {
    expect(same(true, {})).toBe(true);
    expect(same(obj({ a: true }), obj({ a: { description: "anything" } }))).toBe(true);
  });
  test("a changed bound", () =>
    expect(
      same(
        base,
        obj({ name: { type: "string", maxLength: 11 }, tags: arr({ items: str }) }, { required: ["name"] }),
      ),
    ).toBe(false));
  test("an added property", () =>
    expect(same(base, { ...base, properties: { ...base.properties, age: int } })).toBe(false));
  test("a property named like a documentation keyword is not documentation", () => {
    expect(same(obj({ title: str }), obj({ title: int }))).toBe(false);
    expect(same(obj({ description: str }), obj({}))).toBe(false);
    expect(same(obj({ default: str }), obj({ default: str }))).toBe(true);
  });
  test("const and enum values are data, even when they look like keywords", () => {
    expect(same({ const: { description: "a" } }, { const: { description: "b" } })).toBe(false);
  });
  test("a changed referenced schema", () => {
    const refs = (maxLength: number) => [{ name: "a.json", content: { type: "string", maxLength } }];
    const schema = obj({ a: { $ref: "a.json" } });
    expect(same(schema, schema, refs(5), refs(6))).toBe(false);
    expect(same(schema, schema, refs(5), refs(5))).toBe(true);
  });
  test("a dialect change is not documentation", () => {
    expect(same({ $schema: D7, type: "string" }, { type: "string" })).toBe(false);
  });
});

describe("RULES", () => {
  test("every emitted rule id is in RULES, and every RULES id is exercised", () => {
    for (const rule of emitted) expect(Object.keys(RULES)).toContain(rule);
    for (const c of cases) for (const rule of c.expect) expect(Object.keys(RULES)).toContain(rule);
    const exercised = new Set(cases.flatMap((c) => c.expect));
    for (const rule of Object.keys(RULES)) expect([...exercised]).toContain(rule);
  });

  test("ids are snake_case and meanings are single sentences", () => {
    for (const [rule, meaning] of Object.entries(RULES)) {
      expect(rule).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(meaning).toMatch(/^[A-Z`].*\.$/);
    }
  });
});

describe("performance", () => {
  // A 200-property schema in 50 versions; each version adds an optional property and rewords one.
  function version(n: number): unknown {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      const kinds = [
        { type: "string", maxLength: 100, description: i === n ? `reworded in ${n}` : "text" },
        { type: "integer", minimum: 0, maximum: 1000 },
        arr({ items: { type: "string", pattern: "^[a-z]+$" }, maxItems: 50 }),
        obj({ x: num, y: num }, { required: ["x"], additionalProperties: false }),
        { enum: ["a", "b", "c", "d"] },
        { anyOf: [str, { type: "null" }] },
        { $ref: "#/$defs/Money" },
      ];
      properties[`field_${i}`] = kinds[i % kinds.length];
    }
    for (let j = 0; j < n; j++) properties[`added_${j}`] = { type: "string" };
    return {
      $defs: { Money: obj({ amount: num, currency: { type: "string", minLength: 3, maxLength: 3 } }) },
      ...obj(properties, { required: ["field_0", "field_1", "field_2"] }),
    };
  }

  /** Prepares 51 versions and checks the newest against the other 50 as reader and as writer. */
  function workload(contents: unknown[]): { total: number; prepare: number; violations: number } {
    const start = performance.now();
    const prepared = contents.map((content) => prepare(content));
    const candidate = prepared.at(-1)!;
    const preparedAt = performance.now();
    let violations = 0;
    for (const old of prepared.slice(0, -1)) {
      violations += jsonSchemaRules.readerViolations(candidate, old).length;
      violations += jsonSchemaRules.readerViolations(old, candidate).length;
    }
    return { total: performance.now() - start, prepare: preparedAt - start, violations };
  }

  // Parsed from text, as the registry hands content over: no object is shared between versions.
  const contents = () => Array.from({ length: 51 }, (_, n) => JSON.parse(JSON.stringify(version(n))));

  test("a 200-property schema against 50 versions in both directions stays far below 200 ms", () => {
    const runs = [workload(contents()), workload(contents()), workload(contents())];
    // The new optional properties are compatible both ways under the open content model.
    for (const run of runs) expect(run.violations).toBe(0);
    // The best of three, so that a busy machine does not fail the check; a pathological slowdown still does.
    const best = runs.reduce((a, b) => (b.total < a.total ? b : a));
    expect(best.total).toBeLessThan(200);

    // One comparison of neighbouring versions, warmed up: reported, not asserted, as it is a few dozen µs.
    const [reader, writer] = [prepare(contents()[50]), prepare(contents()[49])];
    for (let i = 0; i < 50; i++) jsonSchemaRules.readerViolations(reader, writer);
    const rounds = 200;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) jsonSchemaRules.readerViolations(reader, writer);
    const perCompare = (performance.now() - start) / rounds;
    console.log(
      `json-schema compatibility, 200 properties x 50 versions x 2 directions: first run ${runs[0]!.total.toFixed(1)} ms ` +
        `(prepare ${runs[0]!.prepare.toFixed(1)} ms), best ${best.total.toFixed(1)} ms (prepare ${best.prepare.toFixed(1)} ms); ` +
        `one comparison ${(perCompare * 1000).toFixed(0)} µs`,
    );
  });
});
