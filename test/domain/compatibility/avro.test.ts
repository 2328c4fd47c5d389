/**
 * Avro schema resolution, case by case: each case reads data written with
 * `writer` using `reader` and lists the rule ids the verdict must contain
 * (none when the reader can read it), as the Avro specification's "Schema
 * Resolution" section decides.
 */
import { describe, expect, test } from "bun:test";
import { type AvroPrepared, avroRules, RULES } from "../../../src/domain/compatibility/avro.ts";
import type { SchemaDocument, Violation } from "../../../src/domain/compatibility/types.ts";

type Json = unknown;

interface Case {
  rule: string;
  name: string;
  reader: Json;
  writer: Json;
  expect: string[];
  /** When given, the exact paths of the violations, in any order. */
  paths?: string[];
}

const record = (name: string, fields: Json[], extra: Record<string, Json> = {}) => ({
  type: "record",
  name,
  ...extra,
  fields,
});
const field = (name: string, type: Json, extra: Record<string, Json> = {}) => ({ name, type, ...extra });
const enumType = (name: string, symbols: string[], extra: Record<string, Json> = {}) => ({
  type: "enum",
  name,
  ...extra,
  symbols,
});
const fixed = (name: string, size: number, extra: Record<string, Json> = {}) => ({
  type: "fixed",
  name,
  size,
  ...extra,
});
const array = (items: Json) => ({ type: "array", items });
const map = (values: Json) => ({ type: "map", values });
const decimal = (precision: number, scale?: number) => ({
  type: "bytes",
  logicalType: "decimal",
  precision,
  ...(scale === undefined ? {} : { scale }),
});

/** A record `User` with the given fields, the shape most cases vary. */
const user = (...fields: Json[]) => record("User", fields, { namespace: "acme" });
const id = field("id", "long");

const address = (...extra: Json[]) => record("Address", [field("street", "string"), ...extra]);
const linkedList = (...extra: Json[]) =>
  record("Node", [field("value", "int"), field("next", ["null", "Node"], { default: null }), ...extra]);

const COMPATIBLE: Case[] = [
  // Primitives and promotions.
  { rule: "compatible", name: "same int", reader: "int", writer: "int", expect: [] },
  { rule: "compatible", name: "same null", reader: "null", writer: "null", expect: [] },
  { rule: "compatible", name: "same boolean", reader: "boolean", writer: "boolean", expect: [] },
  { rule: "compatible", name: "int promotes to long", reader: "long", writer: "int", expect: [] },
  { rule: "compatible", name: "int promotes to float", reader: "float", writer: "int", expect: [] },
  { rule: "compatible", name: "int promotes to double", reader: "double", writer: "int", expect: [] },
  { rule: "compatible", name: "long promotes to float", reader: "float", writer: "long", expect: [] },
  { rule: "compatible", name: "long promotes to double", reader: "double", writer: "long", expect: [] },
  { rule: "compatible", name: "float promotes to double", reader: "double", writer: "float", expect: [] },
  { rule: "compatible", name: "string read as bytes", reader: "bytes", writer: "string", expect: [] },
  { rule: "compatible", name: "bytes read as string", reader: "string", writer: "bytes", expect: [] },
  {
    rule: "compatible",
    name: "object form of a primitive equals its name",
    reader: { type: "string" },
    writer: "string",
    expect: [],
  },
  // Records.
  { rule: "compatible", name: "identical records", reader: user(id), writer: user(id), expect: [] },
  {
    rule: "compatible",
    name: "writer field the reader lacks is skipped",
    reader: user(id),
    writer: user(id, field("email", "string")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader field added with a default",
    reader: user(id, field("email", "string", { default: "" })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader field added as optional with default null",
    reader: user(id, field("email", ["null", "string"], { default: null })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader field renamed with the old name as alias",
    reader: user(field("userId", "long", { aliases: ["id"] })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "fields reordered",
    reader: user(field("name", "string"), id),
    writer: user(id, field("name", "string")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "nested record gains a field with a default",
    reader: user(id, field("home", address(field("zip", "string", { default: "" })))),
    writer: user(id, field("home", address())),
    expect: [],
  },
  {
    rule: "compatible",
    name: "namespace changed (names compare unqualified)",
    reader: record("User", [id], { namespace: "acme.v2" }),
    writer: record("User", [id], { namespace: "acme.v1" }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "record renamed with a relative alias",
    reader: record("Customer", [id], { namespace: "acme", aliases: ["User"] }),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "record renamed with an absolute alias in another namespace",
    reader: record("Customer", [id], { namespace: "shop", aliases: ["acme.User"] }),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "field type widened int to long",
    reader: user(field("age", "long")),
    writer: user(field("age", "int")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "field made optional (string into union with null)",
    reader: user(field("email", ["null", "string"], { default: null })),
    writer: user(field("email", "string")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "documentation changed",
    reader: user(field("id", "long", { doc: "The user's id." })),
    writer: record("User", [id], { namespace: "acme", doc: "A user." }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader default on a field the writer writes is unused",
    reader: user(field("id", "long", { default: 0 })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader adds a record field with a record default",
    reader: user(id, field("home", address(), { default: { street: "" } })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader adds an array field with an empty default",
    reader: user(id, field("tags", array("string"), { default: [] })),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "record name given dotted on one side, with namespace on the other",
    reader: record("acme.User", [id]),
    writer: user(id),
    expect: [],
  },
  {
    rule: "compatible",
    name: "error type read as record of the same name",
    reader: user(id),
    writer: { type: "error", name: "User", namespace: "acme", fields: [id] },
    expect: [],
  },
  {
    rule: "compatible",
    name: "field name preferred over a reader alias",
    reader: user(field("a", "string", { aliases: ["b"] })),
    writer: user(field("a", "string"), field("b", "int")),
    expect: [],
  },
  // Enums.
  {
    rule: "compatible",
    name: "reader enum adds a symbol",
    reader: enumType("Status", ["ACTIVE", "INACTIVE", "BANNED"]),
    writer: enumType("Status", ["ACTIVE", "INACTIVE"]),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader enum drops a symbol but has a default",
    reader: enumType("Status", ["ACTIVE", "UNKNOWN"], { default: "UNKNOWN" }),
    writer: enumType("Status", ["ACTIVE", "INACTIVE", "UNKNOWN"]),
    expect: [],
  },
  {
    rule: "compatible",
    name: "enum symbols reordered",
    reader: enumType("Status", ["INACTIVE", "ACTIVE"]),
    writer: enumType("Status", ["ACTIVE", "INACTIVE"]),
    expect: [],
  },
  {
    rule: "compatible",
    name: "enum renamed with an alias",
    reader: enumType("State", ["ACTIVE"], { aliases: ["Status"] }),
    writer: enumType("Status", ["ACTIVE"]),
    expect: [],
  },
  {
    rule: "compatible",
    name: "enum in another namespace",
    reader: enumType("Status", ["ACTIVE"], { namespace: "b" }),
    writer: enumType("Status", ["ACTIVE"], { namespace: "a" }),
    expect: [],
  },
  {
    rule: "compatible",
    name: "enum with a default inside an array reads new symbols",
    reader: array(enumType("Status", ["A", "OTHER"], { default: "OTHER" })),
    writer: array(enumType("Status", ["A", "B", "C", "OTHER"])),
    expect: [],
  },
  // Fixed.
  { rule: "compatible", name: "same fixed", reader: fixed("Md5", 16), writer: fixed("Md5", 16), expect: [] },
  {
    rule: "compatible",
    name: "fixed renamed with an alias",
    reader: fixed("Hash", 16, { aliases: ["Md5"] }),
    writer: fixed("Md5", 16),
    expect: [],
  },
  // Arrays and maps.
  {
    rule: "compatible",
    name: "array items widened int to long",
    reader: array("long"),
    writer: array("int"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "array of records gains a field with a default",
    reader: array(address(field("zip", "string", { default: "" }))),
    writer: array(address()),
    expect: [],
  },
  {
    rule: "compatible",
    name: "map values widened int to long",
    reader: map("long"),
    writer: map("int"),
    expect: [],
  },
  {
    rule: "compatible",
    name: "map of string values read as bytes",
    reader: map("bytes"),
    writer: map("string"),
    expect: [],
  },
  // Unions.
  {
    rule: "compatible",
    name: "writer type is a branch of the reader union",
    reader: ["null", "string"],
    writer: "string",
    expect: [],
  },
  {
    rule: "compatible",
    name: "union branches reordered",
    reader: ["string", "null"],
    writer: ["null", "string"],
    expect: [],
  },
  {
    rule: "compatible",
    name: "union branch promoted int to long",
    reader: ["null", "long"],
    writer: ["null", "int"],
    expect: [],
  },
  {
    rule: "compatible",
    name: "union gains a branch",
    reader: ["null", "string", "int"],
    writer: ["null", "string"],
    expect: [],
  },
  {
    rule: "compatible",
    name: "writer int read by a union with a long branch",
    reader: ["null", "string", "long"],
    writer: "int",
    expect: [],
  },
  { rule: "compatible", name: "single-branch reader union", reader: ["long"], writer: "int", expect: [] },
  { rule: "compatible", name: "single-branch writer union", reader: "long", writer: ["int"], expect: [] },
  {
    rule: "compatible",
    name: "union of string read as union with bytes",
    reader: ["null", "bytes"],
    writer: ["null", "string"],
    expect: [],
  },
  {
    rule: "compatible",
    name: "optional record gains a field with a default",
    reader: user(
      field("home", ["null", address(field("zip", "string", { default: "" }))], { default: null }),
    ),
    writer: user(field("home", ["null", address()], { default: null })),
    expect: [],
  },
  {
    rule: "compatible",
    name: "union of two records read by a union holding both",
    reader: ["null", record("Email", [field("to", "string")]), record("Sms", [field("phone", "string")])],
    writer: [record("Sms", [field("phone", "string")]), record("Email", [field("to", "string")])],
    expect: [],
  },
  {
    rule: "compatible",
    name: "reader union picks the record of the same name among several",
    reader: [record("A", [field("x", "int")]), record("B", [field("y", "int")])],
    writer: record("B", [field("y", "int")]),
    expect: [],
  },
  // Named types, namespaces and references by name.
  {
    rule: "compatible",
    name: "named type reused by name",
    reader: user(field("home", address()), field("work", "Address")),
    writer: user(field("home", address()), field("work", "Address")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "reference by short name in the enclosing namespace",
    reader: user(field("home", address()), field("work", "acme.Address")),
    writer: user(field("home", address()), field("work", "Address")),
    expect: [],
  },
  {
    rule: "compatible",
    name: "nested type in the null namespace",
    reader: user(field("home", record("Address", [field("street", "string")], { namespace: "" }))),
    writer: user(field("home", record("Address", [field("street", "string")], { namespace: "" }))),
    expect: [],
  },
  {
    rule: "compatible",
    name: "recursive linked list, identical",
    reader: linkedList(),
    writer: linkedList(),
    expect: [],
  },
  {
    rule: "compatible",
    name: "recursive linked list gains a field with a default",
    reader: linkedList(field("label", "string", { default: "" })),
    writer: linkedList(),
    expect: [],
  },
  {
    rule: "compatible",
    name: "recursive tree widens its value",
    reader: record("Tree", [field("value", "long"), field("children", array("Tree"))]),
    writer: record("Tree", [field("value", "int"), field("children", array("Tree"))]),
    expect: [],
  },
  // Logical types.
  {
    rule: "compatible",
    name: "logical type dropped (date to int)",
    reader: "int",
    writer: { type: "int", logicalType: "date" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "logical type changed on the same underlying type",
    reader: { type: "long", logicalType: "timestamp-micros" },
    writer: { type: "long", logicalType: "timestamp-millis" },
    expect: [],
  },
  {
    rule: "compatible",
    name: "uuid logical type added to string",
    reader: { type: "string", logicalType: "uuid" },
    writer: "string",
    expect: [],
  },
  {
    rule: "compatible",
    name: "same decimal",
    reader: decimal(10, 2),
    writer: decimal(10, 2),
    expect: [],
  },
  {
    rule: "compatible",
    name: "decimal scale omitted equals scale 0",
    reader: decimal(10),
    writer: decimal(10, 0),
    expect: [],
  },
  {
    rule: "compatible",
    name: "decimal added on bytes",
    reader: decimal(10, 2),
    writer: "bytes",
    expect: [],
  },
  {
    rule: "compatible",
    name: "date read as timestamp-millis (int promotes to long)",
    reader: { type: "long", logicalType: "timestamp-millis" },
    writer: { type: "int", logicalType: "date" },
    expect: [],
  },
];

const INCOMPATIBLE: Case[] = [
  // type_narrowed
  {
    rule: "type_narrowed",
    name: "long read as int",
    reader: "int",
    writer: "long",
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "double read as float",
    reader: "float",
    writer: "double",
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "float read as int",
    reader: "int",
    writer: "float",
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "double read as long",
    reader: "long",
    writer: "double",
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "float read as long",
    reader: "long",
    writer: "float",
    expect: ["type_narrowed"],
  },
  {
    rule: "type_narrowed",
    name: "record field long to int",
    reader: user(field("id", "int")),
    writer: user(id),
    expect: ["type_narrowed"],
    paths: ["#/fields/id"],
  },
  {
    rule: "type_narrowed",
    name: "array items long to int",
    reader: user(field("scores", array("int"))),
    writer: user(field("scores", array("long"))),
    expect: ["type_narrowed"],
    paths: ["#/fields/scores/items"],
  },
  {
    rule: "type_narrowed",
    name: "map values double to float",
    reader: user(field("payload", map("float"))),
    writer: user(field("payload", map("double"))),
    expect: ["type_narrowed"],
    paths: ["#/fields/payload/values"],
  },
  {
    rule: "type_narrowed",
    name: "array of arrays narrows its innermost items",
    reader: array(array("int")),
    writer: array(array("long")),
    expect: ["type_narrowed"],
    paths: ["#/items/items"],
  },
  {
    rule: "type_narrowed",
    name: "writer union branch long read as int",
    reader: "int",
    writer: ["int", "long"],
    expect: ["type_narrowed"],
    paths: ["#"],
  },
  {
    rule: "type_narrowed",
    name: "optional long read as optional int",
    reader: ["null", "int"],
    writer: ["null", "long"],
    expect: ["type_narrowed"],
    paths: ["#/branches/1"],
  },
  {
    rule: "type_narrowed",
    name: "long read by a union whose only number is int",
    reader: ["null", "int"],
    writer: "long",
    expect: ["type_narrowed"],
    paths: ["#/branches/1"],
  },
  {
    rule: "type_narrowed",
    name: "timestamp-millis read as date (long to int)",
    reader: { type: "int", logicalType: "date" },
    writer: { type: "long", logicalType: "timestamp-millis" },
    expect: ["type_narrowed"],
  },
  // type_mismatch
  {
    rule: "type_mismatch",
    name: "string read as int",
    reader: "int",
    writer: "string",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "int read as string",
    reader: "string",
    writer: "int",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "boolean read as int",
    reader: "int",
    writer: "boolean",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "int read as boolean",
    reader: "boolean",
    writer: "int",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "null read as string",
    reader: "string",
    writer: "null",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "bytes read as int",
    reader: "int",
    writer: "bytes",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "record read as array",
    reader: array("string"),
    writer: user(id),
    expect: ["type_mismatch"],
    paths: ["#"],
  },
  {
    rule: "type_mismatch",
    name: "array read as map",
    reader: map("string"),
    writer: array("string"),
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "enum read as string",
    reader: "string",
    writer: enumType("Status", ["A"]),
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "string read as enum",
    reader: enumType("Status", ["A"]),
    writer: "string",
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "fixed read as bytes",
    reader: "bytes",
    writer: fixed("Md5", 16),
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "record read as enum of the same name",
    reader: enumType("User", ["A"], { namespace: "acme" }),
    writer: user(id),
    expect: ["type_mismatch"],
  },
  {
    rule: "type_mismatch",
    name: "record field string to boolean",
    reader: user(field("active", "boolean")),
    writer: user(field("active", "string")),
    expect: ["type_mismatch"],
    paths: ["#/fields/active"],
  },
  {
    rule: "type_mismatch",
    name: "array items string to int",
    reader: user(field("tags", array("int"))),
    writer: user(field("tags", array("string"))),
    expect: ["type_mismatch"],
    paths: ["#/fields/tags/items"],
  },
  {
    rule: "type_mismatch",
    name: "map values string to long",
    reader: user(field("attributes", map("long"))),
    writer: user(field("attributes", map("string"))),
    expect: ["type_mismatch"],
    paths: ["#/fields/attributes/values"],
  },
  {
    rule: "type_mismatch",
    name: "field matched through an alias has another type",
    reader: user(field("userId", "string", { aliases: ["id"] })),
    writer: user(id),
    expect: ["type_mismatch"],
    paths: ["#/fields/userId"],
  },
  // reader_field_missing_default
  {
    rule: "reader_field_missing_default",
    name: "reader field added without a default",
    reader: user(id, field("email", "string")),
    writer: user(id),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/email"],
  },
  {
    rule: "reader_field_missing_default",
    name: "field renamed without an alias",
    reader: user(field("userId", "long")),
    writer: user(id),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/userId"],
  },
  {
    rule: "reader_field_missing_default",
    name: "nested record gains a field without a default",
    reader: user(id, field("address", address(field("zip", "string")))),
    writer: user(id, field("address", address())),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/address/fields/zip"],
  },
  {
    rule: "reader_field_missing_default",
    name: "optional field added without a default",
    reader: user(id, field("email", ["null", "string"])),
    writer: user(id),
    expect: ["reader_field_missing_default"],
  },
  {
    rule: "reader_field_missing_default",
    name: "writer dropped a field the reader requires",
    reader: user(id, field("name", "string")),
    writer: user(id),
    expect: ["reader_field_missing_default"],
  },
  {
    rule: "reader_field_missing_default",
    name: "alias on the writer's field does not count",
    reader: user(field("userId", "long")),
    writer: user(field("id", "long", { aliases: ["userId"] })),
    expect: ["reader_field_missing_default"],
  },
  {
    rule: "reader_field_missing_default",
    name: "two fields added without defaults",
    reader: user(id, field("a", "int"), field("b", "int")),
    writer: user(id),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/a", "#/fields/b"],
  },
  {
    rule: "reader_field_missing_default",
    name: "array of records gains a field without a default",
    reader: user(field("addresses", array(address(field("zip", "string"))))),
    writer: user(field("addresses", array(address()))),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/addresses/items/fields/zip"],
  },
  {
    rule: "reader_field_missing_default",
    name: "record in a reader union gains a field without a default",
    reader: user(field("contact", ["null", address(field("zip", "string"))], { default: null })),
    writer: user(field("contact", address())),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/contact/branches/1/fields/zip"],
  },
  {
    rule: "reader_field_missing_default",
    name: "type reused in two fields is reported at both",
    reader: user(field("home", address(field("zip", "string"))), field("work", "Address")),
    writer: user(field("home", address()), field("work", "Address")),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/home/fields/zip", "#/fields/work/fields/zip"],
  },
  {
    rule: "reader_field_missing_default",
    name: "recursive linked list gains a field without a default",
    reader: linkedList(field("label", "string")),
    writer: linkedList(),
    expect: ["reader_field_missing_default"],
    paths: ["#/fields/label"],
  },
  // name_mismatch
  {
    rule: "name_mismatch",
    name: "record renamed without an alias",
    reader: record("Customer", [id], { namespace: "acme" }),
    writer: user(id),
    expect: ["name_mismatch"],
    paths: ["#"],
  },
  {
    rule: "name_mismatch",
    name: "enum renamed without an alias",
    reader: enumType("State", ["A"]),
    writer: enumType("Status", ["A"]),
    expect: ["name_mismatch"],
  },
  {
    rule: "name_mismatch",
    name: "fixed renamed without an alias",
    reader: fixed("Hash", 16),
    writer: fixed("Md5", 16),
    expect: ["name_mismatch"],
  },
  {
    rule: "name_mismatch",
    name: "alias on the writer's type does not count",
    reader: record("Customer", [id]),
    writer: record("User", [id], { aliases: ["Customer"] }),
    expect: ["name_mismatch"],
  },
  {
    rule: "name_mismatch",
    name: "nested record renamed",
    reader: user(field("home", record("Location", [field("street", "string")]))),
    writer: user(field("home", address())),
    expect: ["name_mismatch"],
    paths: ["#/fields/home"],
  },
  {
    rule: "name_mismatch",
    name: "writer union's record read by a record of another name",
    reader: record("B", [id]),
    writer: [record("A", [id])],
    expect: ["name_mismatch"],
  },
  // enum_symbol_missing
  {
    rule: "enum_symbol_missing",
    name: "reader enum drops a symbol",
    reader: enumType("Status", ["ACTIVE"]),
    writer: enumType("Status", ["ACTIVE", "INACTIVE"]),
    expect: ["enum_symbol_missing"],
    paths: ["#/symbols/INACTIVE"],
  },
  {
    rule: "enum_symbol_missing",
    name: "reader enum drops two symbols",
    reader: user(field("status", enumType("Status", ["ACTIVE"]))),
    writer: user(field("status", enumType("Status", ["ACTIVE", "INACTIVE", "BANNED"]))),
    expect: ["enum_symbol_missing"],
    paths: ["#/fields/status/symbols/INACTIVE", "#/fields/status/symbols/BANNED"],
  },
  {
    rule: "enum_symbol_missing",
    name: "map of enum drops a symbol",
    reader: map(enumType("Status", ["A"])),
    writer: map(enumType("Status", ["A", "B"])),
    expect: ["enum_symbol_missing"],
    paths: ["#/values/symbols/B"],
  },
  {
    rule: "enum_symbol_missing",
    name: "optional enum drops a symbol",
    reader: ["null", enumType("Status", ["A"])],
    writer: ["null", enumType("Status", ["A", "B"])],
    expect: ["enum_symbol_missing"],
    paths: ["#/branches/1/symbols/B"],
  },
  // fixed_size_mismatch
  {
    rule: "fixed_size_mismatch",
    name: "fixed size changed",
    reader: fixed("Md5", 8),
    writer: fixed("Md5", 16),
    expect: ["fixed_size_mismatch"],
    paths: ["#"],
  },
  {
    rule: "fixed_size_mismatch",
    name: "fixed renamed and resized",
    reader: fixed("Hash", 8),
    writer: fixed("Md5", 16),
    expect: ["fixed_size_mismatch", "name_mismatch"],
  },
  {
    rule: "fixed_size_mismatch",
    name: "optional fixed resized",
    reader: user(field("hash", ["null", fixed("Md5", 8)], { default: null })),
    writer: user(field("hash", ["null", fixed("Md5", 16)], { default: null })),
    expect: ["fixed_size_mismatch"],
    paths: ["#/fields/hash/branches/1"],
  },
  // union_branch_missing
  {
    rule: "union_branch_missing",
    name: "optional string read as string",
    reader: "string",
    writer: ["null", "string"],
    expect: ["union_branch_missing"],
    paths: ["#"],
  },
  {
    rule: "union_branch_missing",
    name: "reader union drops a branch",
    reader: ["null", "string"],
    writer: ["null", "string", "int"],
    expect: ["union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "int read by a union of null and string",
    reader: ["null", "string"],
    writer: "int",
    expect: ["union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "optional field made required",
    reader: user(field("email", "string")),
    writer: user(field("email", ["null", "string"], { default: null })),
    expect: ["union_branch_missing"],
    paths: ["#/fields/email"],
  },
  {
    rule: "union_branch_missing",
    name: "record in writer union not named in reader union",
    reader: ["null", record("B", [id])],
    writer: ["null", record("A", [id])],
    expect: ["union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "reader union of records drops one",
    reader: [record("Email", [field("to", "string")])],
    writer: [record("Email", [field("to", "string")]), record("Sms", [field("phone", "string")])],
    expect: ["union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "union of string and null read as long",
    reader: "long",
    writer: ["string", "null"],
    expect: ["union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "optional record read as a record of another name",
    reader: record("B", [id]),
    writer: ["null", record("A", [id])],
    expect: ["name_mismatch", "union_branch_missing"],
  },
  {
    rule: "union_branch_missing",
    name: "writer union's enum read as a record of the same name",
    reader: record("Kind", [id]),
    writer: ["null", enumType("Kind", ["A"])],
    expect: ["union_branch_missing"],
    paths: ["#", "#"],
  },
  {
    rule: "union_branch_missing",
    name: "map of optional values read as map of values",
    reader: map("string"),
    writer: map(["null", "string"]),
    expect: ["union_branch_missing"],
    paths: ["#/values"],
  },
  // Decimals.
  {
    rule: "decimal_scale_changed",
    name: "decimal scale changed",
    reader: decimal(10, 3),
    writer: decimal(10, 2),
    expect: ["decimal_scale_changed"],
  },
  {
    rule: "decimal_precision_changed",
    name: "decimal precision raised",
    reader: decimal(12, 2),
    writer: decimal(10, 2),
    expect: ["decimal_precision_changed"],
  },
  {
    rule: "decimal_precision_changed",
    name: "decimal precision lowered",
    reader: user(field("price", decimal(8, 2))),
    writer: user(field("price", decimal(10, 2))),
    expect: ["decimal_precision_changed"],
    paths: ["#/fields/price"],
  },
  {
    rule: "decimal_scale_changed",
    name: "decimal precision and scale both changed",
    reader: decimal(12, 4),
    writer: decimal(10, 2),
    expect: ["decimal_precision_changed", "decimal_scale_changed"],
  },
  {
    rule: "decimal_scale_changed",
    name: "decimal on fixed changes scale",
    reader: fixed("Money", 8, { logicalType: "decimal", precision: 10, scale: 4 }),
    writer: fixed("Money", 8, { logicalType: "decimal", precision: 10, scale: 2 }),
    expect: ["decimal_scale_changed"],
  },
  {
    rule: "decimal_scale_changed",
    name: "optional decimal changes scale",
    reader: ["null", decimal(10, 3)],
    writer: ["null", decimal(10, 2)],
    expect: ["decimal_scale_changed"],
    paths: ["#/branches/1"],
  },
];

const CASES = [...COMPATIBLE, ...INCOMPATIBLE];

const prepare = (content: unknown, references?: SchemaDocument["references"]): AvroPrepared =>
  avroRules.prepare(references ? { content, references } : { content });

const ruleIds = (violations: Violation[]) => [...new Set(violations.map((v) => v.rule))].sort();

describe("readerViolations", () => {
  test("the table is large and covers every rule", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(110);
    const covered = new Set(CASES.flatMap((c) => c.expect));
    expect([...covered].sort()).toEqual(Object.keys(RULES).sort());
  });

  test.each(CASES.map((c) => [`${c.rule}: ${c.name}`, c] as const))("%s", (_label, c) => {
    const violations = avroRules.readerViolations(prepare(c.reader), prepare(c.writer));
    expect(ruleIds(violations)).toEqual([...c.expect].sort());
    for (const v of violations) {
      expect(v.path).toMatch(/^#(\/[^/]+)*$/);
      expect(v.message.length).toBeGreaterThan(20);
      expect(v.message).toMatch(/^[A-Z].*\.$/s);
    }
    if (c.paths) expect(violations.map((v) => v.path).sort()).toEqual([...c.paths].sort());
  });

  test("every emitted rule id is in RULES", () => {
    const emitted = new Set(
      CASES.flatMap((c) =>
        avroRules.readerViolations(prepare(c.reader), prepare(c.writer)).map((v) => v.rule),
      ),
    );
    expect(emitted.size).toBe(Object.keys(RULES).length);
    for (const rule of emitted) expect(Object.keys(RULES)).toContain(rule);
  });

  test("messages name both sides as told, or by default as reader and writer", () => {
    const reader = prepare(user(id, field("email", "string")));
    const writer = prepare(user(id));
    const [named] = avroRules.readerViolations(reader, writer, {
      reader: "the new schema",
      writer: "version 1.2.0",
    });
    expect(named?.message).toContain('Field "email"');
    expect(named?.message).toContain("the new schema");
    expect(named?.message).toContain("version 1.2.0");
    expect(named?.message).toContain("default");
    const [plain] = avroRules.readerViolations(reader, writer);
    expect(plain?.message).toContain("the reader schema");
    expect(plain?.message).toContain("the writer schema");
  });

  test("a message at the start of a sentence is capitalised", () => {
    const [v] = avroRules.readerViolations(prepare("int"), prepare("long"), {
      reader: "version 2.0.0",
      writer: "the new schema",
    });
    expect(
      v?.message.startsWith("The top-level type is long in the new schema but int in version 2.0.0"),
    ).toBe(true);
  });

  test("prepared schemas are reused unchanged across comparisons", () => {
    const reader = prepare(user(field("home", address(field("zip", "string"))), field("work", "Address")));
    const writer = prepare(user(field("home", address()), field("work", "Address")));
    const before = structuredClone([reader, writer]);
    const first = avroRules.readerViolations(reader, writer);
    avroRules.sameMeaning(reader, writer);
    const second = avroRules.readerViolations(reader, writer);
    expect(second).toEqual(first);
    expect([reader, writer]).toEqual(before);
  });
});

describe("references", () => {
  const addressReference = {
    name: "acme/Address",
    content: record("Address", [field("street", "string")], { namespace: "acme" }),
  };

  test("a record uses a named type defined in a reference", () => {
    const content = user(id, field("home", "acme.Address"));
    const a = prepare(content, [addressReference]);
    const b = prepare(content, [addressReference]);
    expect(avroRules.readerViolations(a, b)).toEqual([]);
    expect(avroRules.sameMeaning(a, b)).toBe(true);
  });

  test("a reference used by its short name in the same namespace", () => {
    const reader = prepare(user(id, field("home", "Address")), [addressReference]);
    const writer = prepare(user(id, field("home", "acme.Address")), [addressReference]);
    expect(avroRules.readerViolations(reader, writer)).toEqual([]);
  });

  test("a change inside a referenced type is resolved like an inline one", () => {
    const newer = {
      name: "acme/Address",
      content: record("Address", [field("street", "string"), field("zip", "string")], { namespace: "acme" }),
    };
    const content = user(id, field("home", "acme.Address"));
    const reader = prepare(content, [newer]);
    const writer = prepare(content, [addressReference]);
    const violations = avroRules.readerViolations(reader, writer);
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["reader_field_missing_default", "#/fields/home/fields/zip"],
    ]);
    expect(avroRules.sameMeaning(reader, writer)).toBe(false);
  });

  test("references are parsed in order, a later one using an earlier one", () => {
    const country = {
      name: "acme/Country",
      content: enumType("Country", ["FR", "DE"], { namespace: "acme" }),
    };
    const withCountry = {
      name: "acme/Address",
      content: record("Address", [field("country", "Country")], { namespace: "acme" }),
    };
    const fewerCountries = {
      name: "acme/Country",
      content: enumType("Country", ["FR"], { namespace: "acme" }),
    };
    const content = user(field("home", "acme.Address"));
    const reader = prepare(content, [fewerCountries, withCountry]);
    const writer = prepare(content, [country, withCountry]);
    const violations = avroRules.readerViolations(reader, writer);
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ["enum_symbol_missing", "#/fields/home/fields/country/symbols/DE"],
    ]);
  });

  test("a name no reference defines only matches the same name", () => {
    const reader = prepare(user(field("home", "acme.Address")));
    expect(avroRules.readerViolations(reader, prepare(user(field("home", "acme.Address"))))).toEqual([]);
    const other = avroRules.readerViolations(reader, prepare(user(field("home", "string"))));
    expect(ruleIds(other)).toEqual(["type_mismatch"]);
  });
});

describe("recursion", () => {
  test("a linked list compares with itself and terminates", () => {
    const list = prepare(linkedList());
    expect(avroRules.readerViolations(list, list)).toEqual([]);
  });

  test("mutually recursive records", () => {
    const schema = (extra: Json[]) =>
      record("Tree", [
        field("root", record("Branch", [field("leaves", array("Tree")), ...extra])),
        field("parent", ["null", "Branch"], { default: null }),
      ]);
    expect(avroRules.readerViolations(prepare(schema([])), prepare(schema([])))).toEqual([]);
    const violations = avroRules.readerViolations(prepare(schema([field("w", "int")])), prepare(schema([])));
    expect(ruleIds(violations)).toEqual(["reader_field_missing_default"]);
    expect(violations.map((v) => v.path)).toContain("#/fields/root/fields/w");
  });

  test("a recursive type read with a renamed type reports the name once", () => {
    const renamed = prepare(record("Cell", [field("value", "int"), field("next", ["null", "Cell"])]));
    const violations = avroRules.readerViolations(renamed, prepare(linkedList()));
    expect(violations.map((v) => [v.rule, v.path])).toEqual([["name_mismatch", "#"]]);
  });
});

describe("sameMeaning", () => {
  const base = user(
    field("id", "long", { doc: "Identifier." }),
    field("email", ["null", "string"], { default: null }),
    field("status", enumType("Status", ["ACTIVE", "INACTIVE"])),
  );
  const same = (a: Json, b: Json) => avroRules.sameMeaning(prepare(a), prepare(b));

  const cases: Array<[string, Json, Json, boolean]> = [
    ["identical schemas", base, base, true],
    [
      "doc changed everywhere",
      base,
      record(
        "User",
        [
          field("id", "long", { doc: "The identifier." }),
          field("email", ["null", "string"], { default: null, doc: "Contact." }),
          field("status", enumType("Status", ["ACTIVE", "INACTIVE"], { doc: "State." })),
        ],
        { namespace: "acme", doc: "A user." },
      ),
      true,
    ],
    [
      "key order",
      { type: "record", name: "User", fields: [{ type: "long", name: "id" }] },
      { fields: [{ name: "id", type: "long" }], name: "User", type: "record" },
      true,
    ],
    ["primitive object form", { type: "string" }, "string", true],
    [
      "custom properties",
      user(id),
      record("User", [field("id", "long", { "x-owner": "team" })], { namespace: "acme", "x-team": "a" }),
      true,
    ],
    ["dotted name versus namespace", record("acme.User", [id]), user(id), true],
    ["decimal scale 0 omitted", decimal(10), decimal(10, 0), true],
    [
      "alias order",
      user(id, field("n", "int", { aliases: ["a", "b"] })),
      user(id, field("n", "int", { aliases: ["b", "a"] })),
      true,
    ],
    [
      "field default changed",
      user(field("n", "int", { default: 1 })),
      user(field("n", "int", { default: 2 })),
      false,
    ],
    ["field default added", user(field("n", "int", { default: 1 })), user(field("n", "int")), false],
    ["field alias added", user(field("n", "int", { aliases: ["m"] })), user(field("n", "int")), false],
    ["type alias added", record("User", [id], { namespace: "acme", aliases: ["Person"] }), user(id), false],
    [
      "field order attribute",
      user(field("n", "int", { order: "descending" })),
      user(field("n", "int")),
      false,
    ],
    ["fields reordered", user(id, field("n", "int")), user(field("n", "int"), id), false],
    ["namespace changed", record("User", [id], { namespace: "other" }), user(id), false],
    [
      "logical type changed",
      { type: "long", logicalType: "timestamp-millis" },
      { type: "long", logicalType: "timestamp-micros" },
      false,
    ],
    ["logical type added", { type: "int", logicalType: "date" }, "int", false],
    ["decimal precision changed", decimal(10, 2), decimal(12, 2), false],
    ["enum default added", enumType("S", ["A"], { default: "A" }), enumType("S", ["A"]), false],
    ["enum symbols reordered", enumType("S", ["A", "B"]), enumType("S", ["B", "A"]), false],
    ["union branches reordered", ["null", "string"], ["string", "null"], false],
    ["type widened", "long", "int", false],
  ];

  test.each(cases)("%s", (_name, a, b, expected) => {
    expect(same(a, b)).toBe(expected);
    expect(same(b, a)).toBe(expected);
  });

  test("a referenced type's content is part of the meaning", () => {
    const content = user(field("home", "acme.Address"));
    const a = prepare(content, [
      { name: "a", content: record("Address", [field("street", "string")], { namespace: "acme" }) },
    ]);
    const b = prepare(content, [
      { name: "a", content: record("Address", [field("street", "bytes")], { namespace: "acme" }) },
    ]);
    expect(avroRules.sameMeaning(a, b)).toBe(false);
  });
});

describe("speed", () => {
  const DEFAULTS: Json[] = [0, "", null, [], {}, 0, "A", { x: 0, y: null }];
  const wide = (version: number) =>
    record(
      "Wide",
      Array.from({ length: 200 + version }, (_, i) => {
        const types: Json[] = [
          "long",
          "string",
          ["null", "string"],
          array("int"),
          map("double"),
          { type: "long", logicalType: "timestamp-millis" },
          enumType(`E${i}`, ["A", "B", "C"]),
          record(`R${i}`, [field("x", "int"), field("y", ["null", "string"], { default: null })]),
        ];
        const extra = i >= 200 ? { default: DEFAULTS[i % types.length] } : { doc: `field ${i}` };
        return field(`f${i}`, types[i % types.length], extra);
      }),
      { namespace: "acme.wide" },
    );

  test("a 200-field schema against 50 versions, both directions, well within bounds", () => {
    const contents = Array.from({ length: 51 }, (_, v) => wide(v));
    const start = performance.now();
    const [candidate, ...versions] = contents.map((content) => prepare(content));
    let count = 0;
    for (const version of versions) {
      count += avroRules.readerViolations(candidate!, version).length;
      count += avroRules.readerViolations(version, candidate!).length;
    }
    const unchanged = avroRules.sameMeaning(candidate!, versions.at(-1)!);
    const elapsed = performance.now() - start;
    // The candidate (v0) reads every version: their added fields are skipped. They read v0 with defaults.
    expect(count).toBe(0);
    expect(unchanged).toBe(false);
    // Generous: the target is under 50 ms; this bound only catches a pathological slowdown.
    expect(elapsed).toBeLessThan(200);
  });
});
