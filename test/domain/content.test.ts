/** prepareContent: the documented input rules, canonical form, hash, size, and the errors for bad input. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { prepareContent } from "../../src/domain/content.ts";
import { RegistryError } from "../../src/domain/errors.ts";
import { DEFAULT_LIMITS, MAX_CONTENT_DEPTH } from "../../src/domain/limits.ts";
import type { SchemaType } from "../../src/domain/types.ts";

const sha256 = (text: string) => `sha256:${createHash("sha256").update(text, "utf8").digest("hex")}`;

async function rejection(
  schemaType: SchemaType,
  raw: unknown,
  limits = DEFAULT_LIMITS,
): Promise<RegistryError> {
  try {
    await prepareContent(schemaType, raw, limits);
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe("json", () => {
  test("an object: canonical text, hash over it, UTF-8 size", async () => {
    const raw = { type: "object", description: "größe €", properties: { b: { type: "string" }, a: {} } };
    const prepared = await prepareContent("json", raw);
    const canonical = '{"description":"größe €","properties":{"a":{},"b":{"type":"string"}},"type":"object"}';
    expect(prepared.value).toEqual(raw);
    expect(prepared.canonicalText).toBe(canonical);
    expect(prepared.contentHash).toBe(sha256(canonical));
    expect(prepared.contentSize).toBe(new TextEncoder().encode(canonical).length);
    expect(prepared.contentSize).toBe(canonical.length + 4); // ö, ß: 2 bytes each; €: 3 bytes
  });

  test("JSON text in a string is the same content as the value", async () => {
    const fromValue = await prepareContent("json", { type: "string", maxLength: 5 });
    const fromText = await prepareContent("json", '{\n  "maxLength": 5,\n  "type": "string"\n}\n');
    expect(fromText.value).toEqual({ type: "string", maxLength: 5 });
    expect(fromText.canonicalText).toBe(fromValue.canonicalText);
    expect(fromText.contentHash).toBe(fromValue.contentHash);
  });

  test("key order does not change the hash; a different schema does", async () => {
    const a = await prepareContent("json", { properties: { x: { type: "integer" } }, type: "object" });
    const b = await prepareContent("json", { type: "object", properties: { x: { type: "integer" } } });
    const c = await prepareContent("json", { type: "object", properties: { x: { type: "number" } } });
    expect(a.contentHash).toBe(b.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  test("a boolean schema", async () => {
    const prepared = await prepareContent("json", true);
    expect(prepared.canonicalText).toBe("true");
    expect(prepared.contentSize).toBe(4);
  });

  test("a string that is not JSON text is invalid_schema with the parse error", async () => {
    const error = await rejection("json", "{type: string}");
    expect(error.code).toBe("invalid_schema");
    expect(error.message).toStartWith("content is a string but not JSON text: ");
    expect(error.details.schema_type).toBe("json");
  });

  test("JSON text that is not a schema is invalid_schema", async () => {
    const error = await rejection("json", '{"type": 12}');
    expect(error.code).toBe("invalid_schema");
    expect(error.details.path).toBe("/type");
  });
});

describe("avro", () => {
  test("a bare type name and the same name as JSON text are one content", async () => {
    const bare = await prepareContent("avro", "string");
    const quoted = await prepareContent("avro", '"string"');
    expect(bare.value).toBe("string");
    expect(bare.canonicalText).toBe('"string"');
    expect(quoted.contentHash).toBe(bare.contentHash);
  });

  test('"null" is the null type, not JSON null', async () => {
    const prepared = await prepareContent("avro", "null");
    expect(prepared.value).toBe("null");
    expect(prepared.canonicalText).toBe('"null"');
  });

  test("JSON text of a record is parsed and canonicalised", async () => {
    const prepared = await prepareContent("avro", ' { "type": "record", "name": "A", "fields": [] } ');
    expect(prepared.value).toEqual({ type: "record", name: "A", fields: [] });
    expect(prepared.canonicalText).toBe('{"fields":[],"name":"A","type":"record"}');
  });

  test("an unknown type name is invalid_schema from avsc", async () => {
    const error = await rejection("avro", "com.acme.Nope");
    expect(error.code).toBe("invalid_schema");
    expect(error.message).toBe("undefined type name: com.acme.Nope");
  });

  test("a string that is neither JSON text nor a name is invalid_schema", async () => {
    const error = await rejection("avro", "{record");
    expect(error.code).toBe("invalid_schema");
    expect(error.message).toStartWith("content is a string but neither JSON text nor an Avro type name: ");
  });
});

describe("protobuf", () => {
  const lf = 'syntax = "proto3";\nmessage A {\n  string a = 1;\n}\n';

  test("line endings and trailing whitespace do not change the content", async () => {
    const crlf = await prepareContent(
      "protobuf",
      'syntax = "proto3";   \r\nmessage A {\t\r\n  string a = 1;\r\n}\r\n',
    );
    const plain = await prepareContent("protobuf", lf);
    expect(crlf.value).toBe(lf);
    expect(crlf.canonicalText).toBe(lf);
    expect(crlf.contentHash).toBe(plain.contentHash);
    expect(crlf.contentHash).toBe(sha256(lf));
    expect(crlf.contentSize).toBe(lf.length);
  });

  test("content that is not a string is invalid_request", async () => {
    const error = await rejection("protobuf", { source: lf });
    expect(error.code).toBe("invalid_request");
    expect(error.status).toBe(400);
    expect(error.message).toBe("content must be a string holding the .proto source for schema_type protobuf");
  });

  test("a syntax error is invalid_schema with the line", async () => {
    const error = await rejection("protobuf", 'syntax = "proto3";\r\nmessage A {\r\n  string a = 1\r\n}\r\n');
    expect(error.code).toBe("invalid_schema");
    expect(error.details.line).toBe(4);
  });
});

describe("limits and shape", () => {
  test("missing content is invalid_request", async () => {
    const error = await rejection("json", undefined);
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe("content is required");
  });

  test("content over the size limit is payload_too_large, measured on the canonical text", async () => {
    const limits = { ...DEFAULT_LIMITS, maxSchemaBytes: 20 };
    // 24 bytes as sent, 19 bytes canonical ({"type":"integer"}): under the limit.
    expect((await prepareContent("json", '{ "type" : "integer" }  ', limits)).contentSize).toBe(18);
    const error = await rejection("json", { type: "string", title: "abc" }, limits);
    expect(error.code).toBe("payload_too_large");
    expect(error.status).toBe(413);
    expect(error.details).toEqual({ limit_bytes: 20, size_bytes: 31 });
  });

  test("the size limit comes before validation: an oversized invalid schema is 413, not 422", async () => {
    const error = await rejection("protobuf", "not a proto".repeat(10), {
      ...DEFAULT_LIMITS,
      maxSchemaBytes: 50,
    });
    expect(error.code).toBe("payload_too_large");
  });

  test("content exactly at the limit is accepted", async () => {
    const limits = { ...DEFAULT_LIMITS, maxSchemaBytes: 18 };
    expect((await prepareContent("json", { type: "integer" }, limits)).contentSize).toBe(18);
  });

  test(`JSON content nested deeper than ${MAX_CONTENT_DEPTH} levels is invalid_schema, not a crash`, async () => {
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    const error = await rejection("avro", deep);
    expect(error.code).toBe("invalid_schema");
  });
});
