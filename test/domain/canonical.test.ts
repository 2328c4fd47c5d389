/** Canonical JSON, .proto normalisation and the content hash of the resource. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  canonicalJson,
  contentHash,
  normalizeProtobufSource,
  sha256Hex,
  sha256HexOfBytes,
} from "../../src/domain/canonical.ts";

// An implementation independent of the one under test.
const nodeSha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("canonicalJson", () => {
  test("sorts keys at every depth, keeps array order, writes no whitespace", () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }, 1], c: "x" } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true},1]},"b":1}');
  });

  test("key order and whitespace of the input do not matter", () => {
    const a = JSON.parse(
      '{ "type": "object",\n  "properties": { "name": {"type":"string"}, "age": {"type":"integer"} } }',
    );
    const b = JSON.parse(
      '{"properties":{"age":{"type":"integer"},"name":{"type":"string"}},"type":"object"}',
    );
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(
      '{"properties":{"age":{"type":"integer"},"name":{"type":"string"}},"type":"object"}',
    );
  });

  test("orders keys by UTF-16 code units, not code points or locale", () => {
    // U+FFFF sorts after U+1F600 by code point, before it by UTF-16 code unit (0xD83D).
    const value = { "\uffff": 1, "😀": 2, é: 3, z: 4, Z: 5, a: 6, "": 7, "10": 8, "9": 9 };
    expect(canonicalJson(value)).toBe('{"":7,"10":8,"9":9,"Z":5,"a":6,"z":4,"é":3,"😀":2,"\uffff":1}');
  });

  test("strings and numbers are written exactly as JSON.stringify writes them", () => {
    const value = [1.5, 1e21, 1e-7, -0, 0.1 + 0.2, 'q"\\\n\u0001\u2028', "\ud800"];
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });

  test("scalars and empty containers", () => {
    expect(canonicalJson("string")).toBe('"string"');
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson([])).toBe("[]");
  });

  test("integer-like keys deep inside large content sort as strings too", () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) properties[`p${i}`] = { type: "string" };
    properties.codes = { properties: { "10": { type: "string" }, "9": { type: "string" }, b: {} } };
    const text = canonicalJson({ type: "object", properties });
    expect(text).toContain('"codes":{"properties":{"10":{"type":"string"},"9":{"type":"string"},"b":{}}}');
    expect(text.indexOf('"p10"')).toBeLessThan(text.indexOf('"p9"'));
  });

  test("a key named __proto__ is kept like any other key", () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":1}}');
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":1},"b":1}');
  });

  test("parses back to an equal value", () => {
    const value = { z: [{ b: [], a: {} }], y: "ü", x: -12.5e3 };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  test("values JSON cannot hold are treated as JSON.stringify treats them", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, Number.NaN])).toBe("[null,null]");
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});

describe("normalizeProtobufSource", () => {
  test("CRLF and lone CR become LF; trailing whitespace goes; the rest stays", () => {
    const source = 'syntax = "proto3";  \r\nmessage A {\t\r  string a = 1; // x \r\n}\r\n';
    expect(normalizeProtobufSource(source)).toBe(
      'syntax = "proto3";\nmessage A {\n  string a = 1; // x\n}\n',
    );
  });

  test("leading indentation, blank lines and the final newline are kept", () => {
    const source = "message A {\n\n    int32 a = 1;\n}";
    expect(normalizeProtobufSource(source)).toBe(source);
    expect(normalizeProtobufSource("a\n  \n\t\nb\n")).toBe("a\n\n\nb\n");
  });

  test("is idempotent", () => {
    const once = normalizeProtobufSource("a \r\n b\t\r\n\r\n");
    expect(normalizeProtobufSource(once)).toBe(once);
  });
});

describe("hashing", () => {
  test("known SHA-256 vectors", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("hashes the UTF-8 encoding, as an independent implementation does", async () => {
    for (const text of ['{"a":"ü€😀"}', "x".repeat(100_000), "\u2028"]) {
      expect(await sha256Hex(text)).toBe(nodeSha256(text));
      expect(await sha256HexOfBytes(new TextEncoder().encode(text))).toBe(nodeSha256(text));
    }
  });

  test("contentHash is sha256: + hex of the canonical text", async () => {
    const canonical = canonicalJson({ type: "string" });
    expect(await contentHash(canonical)).toBe(`sha256:${nodeSha256('{"type":"string"}')}`);
    expect(await contentHash(canonical)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
