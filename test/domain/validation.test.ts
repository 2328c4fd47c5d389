/** validateSchemaContent: each type's valid and invalid content, and the invalid_schema errors it gives. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { RegistryError } from "../../src/domain/errors.ts";
import { MAX_CONTENT_DEPTH } from "../../src/domain/limits.ts";
import type { SchemaType } from "../../src/domain/types.ts";
import { jsonSchemaDialect, validateSchemaContent } from "../../src/domain/validation/index.ts";

/** The RegistryError `validateSchemaContent` throws; fails the test when it throws nothing. */
function rejection(schemaType: SchemaType, content: unknown): RegistryError {
  try {
    validateSchemaContent(schemaType, content);
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error(`expected ${schemaType} content to be rejected: ${JSON.stringify(content)}`);
}

function expectInvalid(schemaType: SchemaType, content: unknown, message: string | RegExp) {
  const error = rejection(schemaType, content);
  expect(error.code).toBe("invalid_schema");
  expect(error.status).toBe(422);
  expect(error.details.schema_type).toBe(schemaType);
  if (typeof message === "string") expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  return error;
}

const nest = (depth: number): unknown => {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
};

describe("json", () => {
  // No validation may reach out to the network, whatever the schema refers to.
  const realFetch = globalThis.fetch;
  let fetched: string[] = [];
  beforeEach(() => {
    fetched = [];
    globalThis.fetch = Object.assign(
      async (input: string | URL | Request) => {
        fetched.push(String(input));
        throw new Error("no network in validation");
      },
      { preconnect: realFetch.preconnect },
    );
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
    expect(fetched).toEqual([]);
  });

  test.each([
    ["2020-12 by default", { type: "object", properties: { name: { type: "string", minLength: 1 } } }],
    ["boolean schema true", true],
    ["boolean schema false", false],
    ["empty schema", {}],
    [
      "2020-12 $defs and $ref",
      { $defs: { id: { type: "string", format: "uuid" } }, properties: { id: { $ref: "#/$defs/id" } } },
    ],
    ["2020-12 prefixItems", { type: "array", prefixItems: [{ type: "string" }], items: false }],
    [
      "2019-09",
      {
        $schema: "https://json-schema.org/draft/2019-09/schema",
        items: [{ type: "string" }],
        unevaluatedProperties: false,
      },
    ],
    [
      "draft-07",
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        definitions: { n: { type: "number" } },
        if: { required: ["a"] },
        // biome-ignore lint/suspicious/noThenProperty: "then" is a JSON Schema keyword here, not a promise.
        then: { properties: { a: { $ref: "#/definitions/n" } } },
      },
    ],
    [
      "draft-07 written with https and no #",
      { $schema: "https://json-schema.org/draft-07/schema", type: "string" },
    ],
    ["draft-06", { $schema: "http://json-schema.org/draft-06/schema#", exclusiveMinimum: 0, const: 1 }],
    [
      "unknown keywords are annotations",
      { type: "string", "x-kafka-topic": "orders", foo: { $ref: "#/nope" } },
    ],
    ["$ref inside data keywords is data", { default: { $ref: "#/nope" }, enum: [{ $ref: "#/x" }], const: 1 }],
    [
      "JSON pointer escapes and percent-encoding",
      {
        $defs: { "a/b": {}, "c~d": {}, "e f": {} },
        properties: {
          x: { $ref: "#/$defs/a~1b" },
          y: { $ref: "#/$defs/c~0d" },
          z: { $ref: "#/$defs/e%20f" },
        },
      },
    ],
    ["refs into arrays by index", { allOf: [{ type: "string" }], properties: { x: { $ref: "#/allOf/0" } } }],
    ["a ref to the root", { properties: { child: { $ref: "#" } } }],
    [
      "refs inside an embedded resource resolve against it",
      {
        $defs: {
          inner: {
            $id: "https://schemas.example.com/inner",
            $defs: { y: { type: "string" } },
            properties: { a: { $ref: "#/$defs/y" } },
          },
        },
      },
    ],
    ["refs to other documents are not fetched", { $ref: "https://schemas.example.com/other.json#/$defs/x" }],
    ["relative refs are not fetched", { $id: "https://schemas.example.com/a", $ref: "b.json" }],
    ["plain-name anchors", { $defs: { a: { $anchor: "thing" } }, $ref: "#thing" }],
    ["patterns valid without the u flag", { type: "string", pattern: "^[\\w-.]+$" }],
    ["patterns valid with the u flag", { patternProperties: { "^\\p{L}+$": { type: "string" } } }],
    [
      "draft-07 ignores the siblings of $ref",
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        definitions: { x: {} },
        properties: { a: { $ref: "#/definitions/x", properties: { b: { $ref: "#/nope" } } } },
      },
    ],
    [`nesting of ${MAX_CONTENT_DEPTH} levels`, nest(MAX_CONTENT_DEPTH)],
  ])("accepts %s", (_name, content) => {
    expect(() => validateSchemaContent("json", content)).not.toThrow();
  });

  test("reports the first meta-schema error with its path and the allowed values", () => {
    const error = expectInvalid(
      "json",
      { type: "object", properties: { age: { type: "integr" } } },
      '/properties/age/type must be equal to one of the allowed values: "array", "boolean", "integer", "null", "number", "object", "string"',
    );
    expect(error.details).toMatchObject({
      path: "/properties/age/type",
      dialect: "2020-12",
      keyword: "enum",
    });
  });

  test.each([
    ["minLength below zero", { minLength: -1 }, "/minLength must be >= 0", "/minLength"],
    [
      "required with duplicates",
      { required: ["a", "a"] },
      /^\/required must NOT have duplicate items/,
      "/required",
    ],
    ["$ref that is not a string", { $ref: 5 }, "/$ref must be string", "/$ref"],
    [
      "draft-06 boolean exclusiveMinimum",
      {
        $schema: "http://json-schema.org/draft-06/schema#",
        exclusiveMinimum: true,
      },
      "/exclusiveMinimum must be number",
      "/exclusiveMinimum",
    ],
    [
      "draft-07 items of the wrong type",
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        items: 5,
      },
      "/items must be object,boolean",
      "/items",
    ],
    [
      "2019-09 $recursiveRef that is not a string",
      {
        $schema: "https://json-schema.org/draft/2019-09/schema",
        $recursiveRef: 1,
      },
      "/$recursiveRef must be string",
      "/$recursiveRef",
    ],
  ])("rejects %s", (_name, content, message, path) => {
    expect(expectInvalid("json", content, message).details.path).toBe(path);
  });

  test.each([
    [42, "number"],
    ["string", "string"],
    [null, "null"],
    [[{ type: "string" }], "array"],
  ])("a schema must be an object or a boolean: %p", (content, kind) => {
    expectInvalid("json", content, `a JSON Schema must be an object or a boolean (got ${kind})`);
  });

  test("a local $ref that points nowhere names the ref and where it broke", () => {
    const error = expectInvalid(
      "json",
      { $defs: { a: {} }, properties: { x: { $ref: "#/$defs/b" } } },
      '/properties/x/$ref "#/$defs/b" does not resolve: #/$defs has no "b"',
    );
    expect(error.details.path).toBe("/properties/x/$ref");
  });

  test.each([
    ["index past the end", { allOf: [{}], not: { $ref: "#/allOf/1" } }, "/not/$ref"],
    ["index with a leading zero", { allOf: [{}], not: { $ref: "#/allOf/01" } }, "/not/$ref"],
    [
      "2020-12 evaluates siblings of $ref",
      {
        $defs: { x: {} },
        properties: { a: { $ref: "#/$defs/x", properties: { b: { $ref: "#/nope" } } } },
      },
      "/properties/a/properties/b/$ref",
    ],
    [
      "embedded resources do not see the outer document",
      {
        $defs: {
          top: {},
          inner: { $id: "https://schemas.example.com/inner", items: { $ref: "#/$defs/top" } },
        },
      },
      "/$defs/inner/items/$ref",
    ],
    ["broken percent-encoding", { not: { $ref: "#/%zz" } }, "/not/$ref"],
    [
      "ref deep in a 2019-09 array items",
      {
        $schema: "https://json-schema.org/draft/2019-09/schema",
        items: [{}, { $ref: "#/$defs/missing" }],
      },
      "/items/1/$ref",
    ],
  ])("rejects a broken local $ref: %s", (_name, content, path) => {
    expect(
      expectInvalid("json", content, /\$ref "#.*" (does not resolve|is not a valid URI fragment)/).details
        .path,
    ).toBe(path);
  });

  test("rejects a pattern that is not a regular expression", () => {
    const error = expectInvalid(
      "json",
      { properties: { a: { pattern: "([a-z]" } } },
      /^\/properties\/a\/pattern "\(\[a-z\]" is not a valid regular expression: /,
    );
    expect(error.details.path).toBe("/properties/a/pattern");
  });

  test("rejects a patternProperties key that is not a regular expression", () => {
    const error = expectInvalid(
      "json",
      { patternProperties: { "a/(": {} } },
      /is not a valid regular expression/,
    );
    expect(error.details.path).toBe("/patternProperties/a~1(");
  });

  test("draft-04 is refused with the list of supported dialects", () => {
    const error = expectInvalid(
      "json",
      { $schema: "http://json-schema.org/draft-04/schema#", type: "object" },
      /^unsupported \$schema "http:\/\/json-schema.org\/draft-04\/schema#"; supported: 2020-12 \(https:\/\/json-schema.org\/draft\/2020-12\/schema\), 2019-09 .*draft-07 .*draft-06 /,
    );
    expect(error.details.path).toBe("/$schema");
    expect(error.details.supported).toContain("https://json-schema.org/draft/2020-12/schema");
  });

  test("a $schema that is not a string is refused", () => {
    expectInvalid("json", { $schema: 7 }, "$schema must be a string (the URI of a JSON Schema meta-schema)");
  });

  test("jsonSchemaDialect reads $schema", () => {
    expect(jsonSchemaDialect({})).toBe("2020-12");
    expect(jsonSchemaDialect(true)).toBe("2020-12");
    expect(jsonSchemaDialect({ $schema: "https://json-schema.org/draft/2019-09/schema#" })).toBe("2019-09");
    expect(jsonSchemaDialect({ $schema: "http://json-schema.org/draft-06/schema" })).toBe("draft-06");
  });

  test(`content nested deeper than ${MAX_CONTENT_DEPTH} levels is refused before any recursion`, () => {
    const error = expectInvalid(
      "json",
      nest(100_000),
      `content is nested more than ${MAX_CONTENT_DEPTH} levels deep`,
    );
    expect(error.details.max_depth).toBe(MAX_CONTENT_DEPTH);
    expectInvalid("json", nest(MAX_CONTENT_DEPTH + 1), /nested more than/);
  });

  test("a very long parser message is cut short", () => {
    const key = "k".repeat(5000);
    const error = rejection("json", { $defs: {}, not: { $ref: `#/$defs/${key}` } });
    expect(error.message.length).toBeLessThanOrEqual(1001);
    expect(error.message.endsWith("…")).toBe(true);
  });
});

describe("avro", () => {
  test.each([
    ["a primitive name", "string"],
    ["null", "null"],
    ["a primitive as an object", { type: "long" }],
    ["a union", ["null", "string"]],
    [
      "a record with nested types and a self reference",
      {
        type: "record",
        name: "Order",
        namespace: "com.acme",
        fields: [
          { name: "id", type: { type: "string", logicalType: "uuid" } },
          {
            name: "status",
            type: { type: "enum", name: "Status", symbols: ["NEW", "DONE"] },
            default: "NEW",
          },
          { name: "lines", type: { type: "array", items: { type: "map", values: "double" } } },
          { name: "hash", type: { type: "fixed", name: "Hash", size: 16 } },
          { name: "next", type: ["null", "Order"], default: null },
          { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
        ],
      },
    ],
  ])("accepts %s", (_name, content) => {
    expect(() => validateSchemaContent("avro", content)).not.toThrow();
  });

  test.each([
    ["an unknown type name", "com.acme.Missing", "undefined type name: com.acme.Missing"],
    ["a record without a name", { type: "record", fields: [] }, /^missing name property in schema/],
    [
      "a field type that does not exist",
      { type: "record", name: "A", fields: [{ name: "x", type: "strin" }] },
      "undefined type name: strin",
    ],
    [
      "a default of the wrong type",
      { type: "record", name: "A", fields: [{ name: "x", type: "int", default: "zero" }] },
      'incompatible field default "zero" (invalid "int": "zero")',
    ],
    ["duplicate enum symbols", { type: "enum", name: "E", symbols: ["A", "A"] }, 'duplicate "E" symbol: "A"'],
    ["duplicate union branches", ["null", "null"], 'duplicate union branch name: "null"'],
    ["a map without values", { type: "map" }, /^missing map values/],
    ["an invalid name", { type: "record", name: "1bad", fields: [] }, 'invalid name: "1bad"'],
  ])("rejects %s with avsc's message", (_name, content, message) => {
    expectInvalid("avro", content, message);
  });

  test.each([
    [42, "number"],
    [true, "boolean"],
    [null, "null"],
  ])("content must be an object, array or string: %p", (content, kind) => {
    expectInvalid(
      "avro",
      content,
      `an Avro schema must be an object, an array (a union) or a string (a type name) (got ${kind})`,
    );
  });

  test("deeply nested records are fine up to the depth limit", () => {
    let schema: unknown = "string";
    for (let i = 0; i < 200; i++)
      schema = { type: "record", name: `R${i}`, fields: [{ name: "f", type: schema }] };
    expect(() => validateSchemaContent("avro", schema)).not.toThrow();
  });
});

describe("protobuf", () => {
  test.each([
    [
      "proto3 with package, nesting, maps, oneofs, enums and services",
      `syntax = "proto3";
package acme.chat.v1;

// A request.
message CompletionRequest {
  string model = 1;
  repeated Message messages = 2;
  map<string, string> labels = 3;
  oneof limit { int32 max_tokens = 4; double budget = 5; }
  message Message { Role role = 1; string text = 2; }
  enum Role { ROLE_UNSPECIFIED = 0; USER = 1; }
}
message CompletionResponse { string text = 1; }
service Chat { rpc Complete(CompletionRequest) returns (CompletionResponse); }
`,
    ],
    [
      "proto2 with required fields",
      'syntax = "proto2";\nmessage A { required string a = 1; optional int32 b = 2; }\n',
    ],
    ["no syntax statement", "message A { optional string a = 1; }"],
    [
      "imported types (not resolvable here, so not checked)",
      'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\nmessage A { google.protobuf.Timestamp at = 1; }\n',
    ],
    ["a comment before syntax", '// header\n/* block */\nsyntax = "proto3";\nmessage A {}\n'],
    ["editions", 'edition = "2023";\nmessage A { string a = 1; }\n'],
  ])("accepts %s", (_name, source) => {
    expect(() => validateSchemaContent("protobuf", source)).not.toThrow();
  });

  test("a syntax error gives protobufjs's message and the line", () => {
    const error = expectInvalid(
      "protobuf",
      'syntax = "proto3";\nmessage A {\n  string a = 1;\n  int32 b = 2 3;\n}\n',
      "illegal token '3', ';' expected (line 4)",
    );
    expect(error.details.line).toBe(4);
  });

  test.each([
    [
      "a missing semicolon",
      'syntax = "proto3";\nmessage A {\n  string a = 1\n}\n',
      "illegal token '}', ';' expected (line 4)",
      4,
    ],
    ["an unterminated comment", 'syntax = "proto3";\nmessage A {}\n/* open', "illegal comment (line 3)", 3],
    [
      "syntax proto4",
      'syntax = "proto4";\nmessage A {}',
      'unsupported syntax "proto4": expected "proto2" or "proto3" (line 1)',
      1,
    ],
    [
      "syntax after a comment",
      '// c\n\nsyntax = "proto1";',
      'unsupported syntax "proto1": expected "proto2" or "proto3" (line 3)',
      3,
    ],
  ])("rejects %s", (_name, source, message, line) => {
    expect(expectInvalid("protobuf", source, message).details.line).toBe(line);
  });

  test.each([
    [
      "an unknown field type",
      'syntax = "proto3";\nmessage A { strin a = 1; }',
      "no such Type or Enum 'strin' in Type .A",
    ],
    [
      "a duplicate field number",
      'syntax = "proto3";\nmessage A { string a = 1; string b = 1; }',
      "duplicate id 1 in Type A",
    ],
    [
      "a duplicate field name",
      'syntax = "proto3";\nmessage A { string a = 1; string a = 2; }',
      "duplicate name 'a' in Type A",
    ],
    ["a duplicate message", 'syntax = "proto3";\nmessage A {}\nmessage A {}', "duplicate name 'A' in Root"],
    ["an empty file", " \n\t\n", "the .proto source is empty"],
  ])("rejects %s", (_name, source, message) => {
    expectInvalid("protobuf", source, message);
  });

  test("content must be a string", () => {
    expectInvalid(
      "protobuf",
      { syntax: "proto3" },
      "a Protobuf schema must be a string holding the .proto source",
    );
  });
});

test("an unknown schema_type is an invalid_request", () => {
  const error = rejection("xml" as SchemaType, "<a/>");
  expect(error.code).toBe("invalid_request");
  expect(error.message).toBe('schema_type must be one of json, avro, protobuf (got "xml")');
});
