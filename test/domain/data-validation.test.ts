/**
 * compileDataValidator: documents against JSON Schema, Avro and Protobuf
 * schemas with the real libraries; the paths and messages of the errors; the
 * guards that keep a crafted document or pattern from holding the server.
 */
import { describe, expect, test } from "bun:test";
import type { SchemaDocument } from "../../src/domain/compatibility/types.ts";
import {
  compileDataValidator,
  type DataValidationOptions,
  type DataValidator,
  MAX_URL_LENGTH,
} from "../../src/domain/data-validation/index.ts";
import { compileSafePattern } from "../../src/domain/data-validation/safe-regexp.ts";
import { RegistryError } from "../../src/domain/errors.ts";
import { MAX_CONTENT_DEPTH } from "../../src/domain/limits.ts";
import type { SchemaType } from "../../src/domain/types.ts";
import { completion, completionSchema } from "../support/chat-completion.ts";

const json = (content: unknown, references?: SchemaDocument["references"], options?: DataValidationOptions) =>
  compileDataValidator("json", { content, references }, options);
const avro = (content: unknown, references?: SchemaDocument["references"], options?: DataValidationOptions) =>
  compileDataValidator("avro", { content, references }, options);
const proto = (content: string, references?: SchemaDocument["references"], options?: DataValidationOptions) =>
  compileDataValidator("protobuf", { content, references }, options);

function expectValid(validator: DataValidator, document: unknown) {
  const verdict = validator.validate(document);
  expect(verdict.errors).toEqual([]);
  expect(verdict.valid).toBe(true);
}

/** The errors of an invalid document, as [path, message] pairs. */
function errorsOf(validator: DataValidator, document: unknown): [string, string][] {
  const verdict = validator.validate(document);
  expect(verdict.valid).toBe(false);
  return verdict.errors.map((error) => [error.path, error.message]);
}

function compileError(schemaType: SchemaType, schema: SchemaDocument, options?: DataValidationOptions) {
  try {
    compileDataValidator(schemaType, schema, options);
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("expected the schema to be refused");
}

/** Milliseconds `run` takes. */
function timed(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

/** `{"a": {"a": ... {}}}`, `depth` objects deep, built without recursion. */
function nested(depth: number, key = "a"): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { [key]: value };
  return value;
}

// ---------------------------------------------------------------------------

const order = {
  type: "object",
  required: ["id", "email", "items"],
  additionalProperties: false,
  properties: {
    id: { type: "string", pattern: "^ord_[0-9a-f]{8}$" },
    email: { type: "string", format: "email" },
    status: { enum: ["pending", "paid", "shipped"] },
    currency: { const: "EUR" },
    items: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["sku", "price"],
        properties: { sku: { type: "string" }, price: { type: "number", minimum: 0 } },
      },
    },
  },
};
const goodOrder = {
  id: "ord_0123abcd",
  email: "ada@example.com",
  status: "paid",
  currency: "EUR",
  items: [{ sku: "A1", price: 10 }],
};

describe("JSON Schema", () => {
  const validator = json(order);

  test("a valid document", () => {
    expectValid(validator, goodOrder);
  });

  test("a missing required property is reported at the object, naming it", () => {
    const { email: _, ...document } = goodOrder;
    expect(errorsOf(validator, document)).toEqual([["", "must have required property 'email'"]]);
  });

  test("type errors at nested paths", () => {
    const document = {
      ...goodOrder,
      items: [
        { sku: "A1", price: 1 },
        { sku: 7, price: -1 },
      ],
    };
    expect(errorsOf(validator, document)).toEqual([
      ["/items/1/sku", "must be string"],
      ["/items/1/price", "must be >= 0"],
    ]);
  });

  test("an additional property is named in the message", () => {
    expect(errorsOf(validator, { ...goodOrder, coupon: "X" })).toEqual([
      ["", "must NOT have additional property 'coupon'"],
    ]);
  });

  test("enum and const messages list what is allowed", () => {
    expect(errorsOf(validator, { ...goodOrder, status: "lost", currency: "USD" })).toEqual([
      ["/status", 'must be one of "pending", "paid", "shipped"'],
      ["/currency", 'must be equal to "EUR"'],
    ]);
  });

  test("formats are checked", () => {
    expect(errorsOf(validator, { ...goodOrder, email: "not an email" })).toEqual([
      ["/email", 'must match format "email"'],
    ]);
    const dates = json({ type: "object", properties: { at: { type: "string", format: "date-time" } } });
    expectValid(dates, { at: "2024-05-01T12:00:00Z" });
    expect(errorsOf(dates, { at: "yesterday" })).toEqual([["/at", 'must match format "date-time"']]);
  });

  test("patterns are checked", () => {
    expect(errorsOf(validator, { ...goodOrder, id: "ord_XYZ" })).toEqual([
      ["/id", 'must match pattern "^ord_[0-9a-f]{8}$"'],
    ]);
  });

  test("every error is reported, not only the first", () => {
    const errors = errorsOf(validator, { id: 1, email: 2, items: [], extra: true });
    expect(errors).toEqual([
      ["", "must NOT have additional property 'extra'"],
      ["/id", "must be string"],
      ["/email", "must be string"],
      ["/items", "must NOT have fewer than 1 items"],
    ]);
  });

  test("errors are capped at maxErrors (100 by default)", () => {
    const many = { type: "array", items: { type: "string" } };
    const document = Array.from({ length: 500 }, (_, i) => i);
    expect(errorsOf(json(many), document)).toHaveLength(100);
    expect(errorsOf(json(many, [], { maxErrors: 3 }), document)).toEqual([
      ["/0", "must be string"],
      ["/1", "must be string"],
      ["/2", "must be string"],
    ]);
  });

  test("paths are JSON pointers: / and ~ in keys are escaped", () => {
    const schema = { type: "object", additionalProperties: { type: "integer" } };
    expect(errorsOf(json(schema), { "a/b": "x", "c~d": "y" })).toEqual([
      ["/a~1b", "must be integer"],
      ["/c~0d", "must be integer"],
    ]);
  });

  test("the root is the empty path", () => {
    expect(errorsOf(json({ type: "object" }), [1, 2])).toEqual([["", "must be object"]]);
  });

  test("a batch of documents through one compiled validator", () => {
    const documents = Array.from({ length: 1000 }, (_, i) =>
      i % 4 === 0
        ? { ...goodOrder, items: [] }
        : { ...goodOrder, id: `ord_${i.toString(16).padStart(8, "0")}` },
    );
    const verdicts = documents.map((document) => validator.validate(document));
    expect(verdicts.filter((verdict) => verdict.valid)).toHaveLength(750);
    expect(verdicts[0]!.errors).toEqual([{ path: "/items", message: "must NOT have fewer than 1 items" }]);
  });

  test("validation does not change the document (no defaults, no coercion)", () => {
    const validator = json({ type: "object", properties: { n: { type: "integer", default: 5 } } });
    const document = { m: "1" };
    expectValid(validator, document);
    expect(document).toEqual({ m: "1" });
    expect(errorsOf(validator, { n: "5" })).toEqual([["/n", "must be integer"]]);
  });

  test("references resolve by name, and errors inside them have document paths", () => {
    const address = {
      type: "object",
      required: ["city"],
      properties: { city: { type: "string" }, zip: { type: "string", pattern: "^[0-9]{5}$" } },
    };
    const validator = json(
      {
        type: "object",
        properties: { shipping: { $ref: "address.json" }, billing: { $ref: "address.json" } },
      },
      [{ name: "address.json", content: address }],
    );
    expectValid(validator, { shipping: { city: "Lyon", zip: "69001" } });
    expect(errorsOf(validator, { shipping: { zip: "6900" }, billing: { city: 3 } })).toEqual([
      ["/shipping", "must have required property 'city'"],
      ["/shipping/zip", 'must match pattern "^[0-9]{5}$"'],
      ["/billing/city", "must be string"],
    ]);
  });

  test("a reference with its own $id resolves by name and by $id", () => {
    const money = { $id: "https://schemas.example.com/money", type: "integer", minimum: 0 };
    const validator = json(
      {
        type: "object",
        properties: { a: { $ref: "money" }, b: { $ref: "https://schemas.example.com/money" } },
      },
      [{ name: "money", content: money }],
    );
    expectValid(validator, { a: 1, b: 2 });
    expect(errorsOf(validator, { a: -1, b: "2" })).toEqual([
      ["/a", "must be >= 0"],
      ["/b", "must be integer"],
    ]);
  });

  test("relative refs resolve against the root's $id, and still find references by name", () => {
    const validator = json(
      { $id: "https://schemas.example.com/order.json", properties: { to: { $ref: "address.json" } } },
      [{ name: "address.json", content: { type: "object", required: ["city"] } }],
    );
    expectValid(validator, { to: { city: "Lyon" } });
    expect(errorsOf(validator, { to: {} })).toEqual([["/to", "must have required property 'city'"]]);
  });

  test("an unresolvable $ref refuses the schema with invalid_schema", () => {
    const error = compileError("json", { content: { $ref: "missing.json" } });
    expect(error.code).toBe("invalid_schema");
    expect(error.status).toBe(422);
    expect(error.message).toContain("missing.json");
  });

  test("validators are independent: the same $id in two schemas, each its own rules", () => {
    const a = json({ $id: "https://example.com/s", type: "string" });
    const b = json({ $id: "https://example.com/s", type: "number" });
    expectValid(a, "x");
    expectValid(b, 1);
    expect(errorsOf(a, 1)).toEqual([["", "must be string"]]);
  });

  test("2020-12 (the default): prefixItems, items and $defs", () => {
    const validator = json({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $defs: { label: { type: "string" } },
      type: "array",
      prefixItems: [{ type: "integer" }, { $ref: "#/$defs/label" }],
      items: false,
    });
    expectValid(validator, [1, "a"]);
    expect(errorsOf(validator, [1, 2, 3])).toEqual([
      ["/1", "must be string"],
      ["", "must NOT have more than 2 items"],
    ]);
  });

  test("2019-09: unevaluatedProperties and dependentRequired", () => {
    const validator = json({
      $schema: "https://json-schema.org/draft/2019-09/schema",
      type: "object",
      properties: { card: { type: "string" }, cvv: { type: "string" } },
      dependentRequired: { card: ["cvv"] },
      unevaluatedProperties: false,
    });
    expectValid(validator, { card: "4111", cvv: "123" });
    expect(errorsOf(validator, { card: "4111", pin: "0000" })).toEqual([
      ["", "must have property cvv when property card is present"],
      ["", "must NOT have unevaluated property 'pin'"],
    ]);
  });

  test("draft-07: tuple items, additionalItems and definitions", () => {
    const validator = json({
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { n: { type: "number" } },
      type: "array",
      items: [{ type: "string" }, { $ref: "#/definitions/n" }],
      additionalItems: false,
    });
    expectValid(validator, ["a", 1]);
    expect(errorsOf(validator, ["a", "b", null])).toEqual([
      ["", "must NOT have more than 2 items"],
      ["/1", "must be number"],
    ]);
  });

  test("draft-06: numeric exclusiveMinimum", () => {
    const validator = json({ $schema: "http://json-schema.org/draft-06/schema#", exclusiveMinimum: 0 });
    expectValid(validator, 0.5);
    expect(errorsOf(validator, 0)).toEqual([["", "must be > 0"]]);
  });

  test("an unsupported dialect is invalid_schema", () => {
    const error = compileError("json", { content: { $schema: "http://json-schema.org/draft-04/schema#" } });
    expect(error.code).toBe("invalid_schema");
    expect(error.message).toContain("unsupported $schema");
  });

  test("boolean schemas", () => {
    expectValid(json(true), { anything: [1] });
    expect(errorsOf(json(false), 1)).toEqual([["", "is not allowed (the schema here is false)"]]);
  });

  test("unknown keywords and formats are ignored (strict off)", () => {
    const validator = json({ type: "string", format: "x-custom", "x-kafka-topic": "orders" });
    expectValid(validator, "anything");
  });

  test("propertyNames errors name the property", () => {
    const validator = json({ type: "object", propertyNames: { pattern: "^[a-z]+$" } });
    expect(errorsOf(validator, { ok: 1, "Not-OK": 2 })).toEqual([
      ["", "property name 'Not-OK' must match pattern \"^[a-z]+$\""],
      ["", "property name 'Not-OK' is invalid"],
    ]);
  });

  test("uniqueItems compares JSON values: key order does not matter", () => {
    const validator = json({ type: "array", uniqueItems: true });
    expectValid(validator, [{ a: 1, b: 2 }, { a: 1, b: 3 }, 1, "1", [1]]);
    expect(
      errorsOf(validator, [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ]),
    ).toEqual([["", "must NOT have duplicate items (items ## 0 and 1 are identical)"]]);
  });

  test("uniqueItems is linear: 20,000 distinct objects in well under a second", () => {
    // ajv's own uniqueItems compares every pair: 2 × 10^8 deep comparisons here
    // (measured: 6 s for 10,000 such objects, quadrupling with each doubling).
    const validator = json({ type: "array", uniqueItems: true });
    const document = Array.from({ length: 20_000 }, (_, i) => ({ id: i, tags: ["x"] }));
    expect(timed(() => expectValid(validator, document))).toBeLessThan(1000);
  });

  test("a schema that is not an object or boolean is invalid_schema", () => {
    expect(compileError("json", { content: [1] }).code).toBe("invalid_schema");
  });
});

// ---------------------------------------------------------------------------

describe("JSON Schema patterns: linear time", () => {
  test('"^(a+)+$" against 40 a\'s and a "!" takes milliseconds', () => {
    // With the native RegExp this is about 2^40 steps of backtracking: hours.
    // Measured natively: 25 a's take about 1 s, and each further one doubles it.
    const validator = json({ type: "string", pattern: "^(a+)+$" });
    for (const length of [30, 40, 50]) {
      const evil = `${"a".repeat(length)}!`;
      let errors: [string, string][] = [];
      expect(timed(() => (errors = errorsOf(validator, evil)))).toBeLessThan(50);
      expect(errors).toEqual([["", 'must match pattern "^(a+)+$"']]);
    }
    expectValid(validator, "aaaa");
  });

  test("patternProperties with an evil pattern, against an evil key", () => {
    const validator = json({
      type: "object",
      patternProperties: { "^(a|aa)+$": { type: "integer" } },
      additionalProperties: false,
    });
    const evilKey = `${"a".repeat(45)}!`;
    let errors: [string, string][] = [];
    expect(timed(() => (errors = errorsOf(validator, { [evilKey]: 1 })))).toBeLessThan(50);
    expect(errors).toEqual([["", `must NOT have additional property '${evilKey}'`]]);
    expect(errorsOf(validator, { aaa: "x" })).toEqual([["/aaa", "must be integer"]]);
  });

  test("an unanchored evil pattern against 100,000 characters stays linear", () => {
    // Natively, `(x+x+)+y` is exponential in the run of x's.
    const validator = json({ type: "string", pattern: "(x+x+)+y" });
    expect(timed(() => errorsOf(validator, "x".repeat(100_000)))).toBeLessThan(500);
  });

  test("a backreference is refused at compile time, naming the pattern", () => {
    const error = compileError("json", {
      content: { type: "object", properties: { twice: { type: "string", pattern: "^(\\w+) \\1$" } } },
    });
    expect(error.code).toBe("invalid_schema");
    expect(error.status).toBe(422);
    expect(error.message).toBe(
      'pattern "^(\\\\w+) \\\\1$" uses a backreference (\\1), which needs backtracking; the linear-time engine cannot run it',
    );
    expect(error.details.pattern).toBe("^(\\w+) \\1$");
  });

  test("named backreferences, lookahead and lookbehind are refused too", () => {
    for (const [pattern, words] of [
      ["^(?<q>['\"]).*\\k<q>$", "backreference"],
      ["^(?=.*\\d).{8,}$", "lookahead"],
      ["(?<!\\$)\\d+", "lookbehind"],
    ] as const) {
      const error = compileError("json", { content: { patternProperties: { [pattern]: {} } } });
      expect(error.code).toBe("invalid_schema");
      expect(error.message).toContain(JSON.stringify(pattern));
      expect(error.message).toContain(words);
    }
  });

  test("a repetition count over RE2's 1,000 is refused with RE2's reason", () => {
    const error = compileError("json", { content: { pattern: "^(ab){2,1001}$" } });
    expect(error.message).toContain("linear-time engine (RE2)");
    expect(error.message).toContain("repeat count");
  });

  test("linear shapes run natively, the rest on RE2", () => {
    for (const pattern of ["^call_[A-Za-z0-9]+$", "^[a-zA-Z0-9_-]{1,64}$", "^\\d{4}-\\d{2}-\\d{2}$", "abc"]) {
      expect(compileSafePattern(pattern)).toBeInstanceOf(RegExp);
    }
    for (const pattern of ["^(a+)+$", "[a-z]+@", "^\\+?[1-9]\\d{1,14}$", "^a|b$", "^a*b*$"]) {
      expect(compileSafePattern(pattern)).not.toBeInstanceOf(RegExp);
    }
  });

  test("RE2 keeps JavaScript's meaning of \\s, \\S, . and Unicode properties", () => {
    // Groups send each to RE2; the native RegExp is the reference.
    const patterns = [
      "(?:^\\S+$)",
      "(?:^.$)",
      "(?:[\\s-]x)",
      "(?:[^\\S\\n]+)",
      "(?:^\\p{Letter}+$)",
      "(?:^\\p{Script=Greek}+$)",
      "(?:^\\P{L}+$)",
      "(?:\\p{ASCII}+$)",
      "(?:[^]a)",
      "(?:\\u{1F600}|\\u00e9)",
      "(?:[\\b])",
      "(?<year>\\d{4})",
      "(?:[[]x)",
    ];
    const texts = [
      "a b",
      "a\u00a0b",
      "\u2028",
      "\n",
      "é",
      "😀",
      "αβγ",
      "ABC",
      "x\ty",
      "\u3000x",
      "\b",
      "2024",
      "[x",
    ];
    for (const pattern of patterns) {
      const safe = compileSafePattern(pattern);
      expect(safe).not.toBeInstanceOf(RegExp);
      const native = new RegExp(pattern, "u");
      for (const text of texts)
        expect([pattern, text, safe.test(text)]).toEqual([pattern, text, native.test(text)]);
    }
  });

  test("patterns valid only without the u flag (accepted on register) still work", () => {
    const validator = json({ type: "string", pattern: "^[\\w-.]+$" });
    expectValid(validator, "a-b.c_d");
    expect(errorsOf(validator, "a b")).toEqual([["", 'must match pattern "^[\\w-.]+$"']]);
  });

  test(`url values over ${MAX_URL_LENGTH} characters fail the format without being matched`, () => {
    // ajv-formats' url expression is quadratic: 1.4 s for 40,000 characters.
    const validator = json({ type: "string", format: "url" });
    expectValid(validator, "https://example.com/a?b=c");
    const long = `http://${"::".repeat(20_000)}`;
    expect(timed(() => errorsOf(validator, long))).toBeLessThan(50);
  });
});

// ---------------------------------------------------------------------------

describe("depth", () => {
  test("a document 100,000 levels deep is rejected quickly, without a stack overflow", () => {
    const tree = json({
      type: "object",
      properties: { a: { $ref: "#" } },
    });
    const deep = nested(100_000);
    let errors: [string, string][] = [];
    expect(timed(() => (errors = errorsOf(tree, deep)))).toBeLessThan(500);
    expect(errors).toEqual([["", `is nested more than ${MAX_CONTENT_DEPTH} levels deep (the limit)`]]);
  });

  test("arrays count as levels too, and the limit itself is accepted", () => {
    const tree = json({ type: "array", items: { $ref: "#" } });
    let atLimit: unknown = [];
    for (let i = 1; i < MAX_CONTENT_DEPTH; i++) atLimit = [atLimit];
    expectValid(tree, atLimit);
    expect(tree.validate([atLimit]).valid).toBe(false);
  });

  test("a schema that cannot follow the document down skips the walk, and deep documents are harmless", () => {
    const flat = json({ type: "object", properties: { a: { type: "object" } } });
    expect(timed(() => expectValid(flat, nested(100_000)))).toBeLessThan(500);
  });

  test("maxDepth is an option, for every schema type", () => {
    const options = { maxDepth: 3 };
    const message = "is nested more than 3 levels deep (the limit)";
    const list = avro(
      {
        type: "record",
        name: "Node",
        fields: [{ name: "next", type: ["null", "Node"], default: null }],
      },
      [],
      options,
    );
    expectValid(list, { next: { next: null } });
    expect(errorsOf(list, { next: { Node: { next: { next: null } } } })).toEqual([["", message]]);
    const node = proto(`syntax = "proto3"; message Node { Node next = 1; }`, [], options);
    expectValid(node, { next: { next: {} } });
    expect(errorsOf(node, { next: { next: { next: {} } } })).toEqual([["", message]]);
    expect(errorsOf(json({ $ref: "#/$defs/x", $defs: { x: {} } }, [], options), [[[[1]]]])).toEqual([
      ["", message],
    ]);
  });

  test("bad options are invalid_request", () => {
    expect(compileError("json", { content: {} }, { maxErrors: 0 }).code).toBe("invalid_request");
    expect(compileError("json", { content: {} }, { maxDepth: 1.5 }).code).toBe("invalid_request");
    expect(compileError("yaml" as SchemaType, { content: {} }).code).toBe("invalid_request");
  });
});

// ---------------------------------------------------------------------------

describe("performance", () => {
  test("a 2 KB LLM response, 10,000 times, within a generous bound", () => {
    const validator = json(completionSchema("native"));
    const document = completion;
    expect(JSON.stringify(document).length).toBeGreaterThan(1900);
    expectValid(validator, document);
    // About 1–3 µs each on a developer machine; 2 s allows for a busy CI core.
    expect(
      timed(() => {
        for (let i = 0; i < 10_000; i++) validator.validate(document);
      }),
    ).toBeLessThan(2000);
  });
});

// ---------------------------------------------------------------------------

const user = {
  type: "record",
  name: "User",
  namespace: "acme",
  fields: [
    { name: "id", type: "long" },
    { name: "name", type: "string" },
    { name: "nickname", type: ["null", "string"], default: null },
    { name: "age", type: "int", default: 0 },
    { name: "role", type: { type: "enum", name: "Role", symbols: ["ADMIN", "MEMBER"] }, default: "MEMBER" },
    { name: "tags", type: { type: "array", items: "string" }, default: [] },
    { name: "scores", type: { type: "map", values: "double" }, default: {} },
    { name: "avatar", type: "bytes", default: "" },
    { name: "key", type: { type: "fixed", name: "Key", size: 4 }, default: "\u0000\u0000\u0000\u0000" },
    {
      name: "address",
      type: [
        "null",
        { type: "record", name: "Address", fields: [{ name: "city", type: "string" }] },
        { type: "record", name: "PoBox", fields: [{ name: "box", type: "int" }] },
      ],
      default: null,
    },
  ],
};

describe("Avro", () => {
  const validator = avro(user);

  test("a record with JSON numbers for long and int, defaults left out", () => {
    expectValid(validator, { id: 1, name: "x" });
    expectValid(validator, {
      id: 2 ** 60,
      name: "Ada",
      age: 36,
      role: "ADMIN",
      tags: ["a"],
      scores: { math: 1.5 },
      avatar: "\u00ff\u0000",
      key: "abcd",
    });
  });

  test("type mismatches: expected long, got string", () => {
    expect(errorsOf(validator, { id: "abc", name: 2, age: 1.5 })).toEqual([
      ["/id", 'expected long, got string "abc"'],
      ["/name", "expected string, got number 2"],
      ["/age", "expected int, got number 1.5"],
    ]);
  });

  test("int and long ranges", () => {
    expect(errorsOf(validator, { id: 2 ** 64, name: "x", age: 2 ** 31 })).toEqual([
      ["/id", "expected long, got number 18446744073709552000 (out of range)"],
      ["/age", "expected int, got number 2147483648 (out of range)"],
    ]);
  });

  test("unions accept the plain value and Avro's JSON encoding", () => {
    expectValid(validator, { id: 1, name: "x", nickname: null });
    expectValid(validator, { id: 1, name: "x", nickname: "ada" });
    expectValid(validator, { id: 1, name: "x", nickname: { string: "ada" } });
    expectValid(validator, { id: 1, name: "x", address: { city: "Lyon" } });
    expectValid(validator, { id: 1, name: "x", address: { "acme.Address": { city: "Lyon" } } });
    expectValid(validator, { id: 1, name: "x", address: { PoBox: { box: 12 } } });
  });

  test("union errors: no branch, or what is wrong inside the wrapped form", () => {
    expect(errorsOf(validator, { id: 1, name: "x", nickname: 5 })).toEqual([
      ["/nickname", "expected one of the union's types (null, string), got number 5"],
    ]);
    expect(errorsOf(validator, { id: 1, name: "x", nickname: { string: 5 } })).toEqual([
      ["/nickname/string", "expected string, got number 5"],
    ]);
    expect(errorsOf(validator, { id: 1, name: "x", address: { "acme.PoBox": { box: "12" } } })).toEqual([
      ["/address/acme.PoBox/box", 'expected int, got string "12"'],
    ]);
  });

  test("missing fields without defaults and fields the record does not declare", () => {
    expect(errorsOf(validator, { name: "x", email: "a@b.c" })).toEqual([
      ["", "missing required field 'id'"],
      ["", "unknown field 'email' (record acme.User does not declare it)"],
    ]);
  });

  test("enums, arrays, maps, bytes and fixed, with paths", () => {
    expect(
      errorsOf(validator, {
        id: 1,
        name: "x",
        role: "OWNER",
        tags: ["a", 1],
        scores: { math: "A" },
        avatar: "€",
        key: "abc",
      }),
    ).toEqual([
      ["/role", 'expected one of the symbols of enum acme.Role (ADMIN, MEMBER), got string "OWNER"'],
      ["/tags/1", "expected string, got number 1"],
      ["/scores/math", 'expected double, got string "A"'],
      ["/avatar", 'expected bytes, got string "€" (bytes are strings of characters U+0000–U+00FF in JSON)'],
      ["/key", "expected acme.Key, 4 bytes, got 3"],
    ]);
  });

  test("nested records report nested paths", () => {
    const orderSchema = {
      type: "record",
      name: "Order",
      fields: [
        {
          name: "items",
          type: {
            type: "array",
            items: { type: "record", name: "Item", fields: [{ name: "price", type: "double" }] },
          },
        },
      ],
    };
    expect(errorsOf(avro(orderSchema), { items: [{ price: 1 }, { price: "free" }] })).toEqual([
      ["/items/1/price", 'expected double, got string "free"'],
    ]);
  });

  test("a primitive schema", () => {
    expectValid(avro("string"), "x");
    expect(errorsOf(avro("string"), 1)).toEqual([["", "expected string, got number 1"]]);
  });

  test("references register named types, in any order", () => {
    const money = {
      type: "record",
      name: "Money",
      namespace: "acme",
      fields: [{ name: "cents", type: "long" }],
    };
    const price = {
      type: "record",
      name: "Price",
      namespace: "acme",
      fields: [{ name: "amount", type: "acme.Money" }],
    };
    const validator = avro(
      { type: "record", name: "Line", namespace: "acme", fields: [{ name: "price", type: "acme.Price" }] },
      [
        { name: "acme.Price", content: price },
        { name: "acme.Money", content: money },
      ],
    );
    expectValid(validator, { price: { amount: { cents: 100 } } });
    expect(errorsOf(validator, { price: { amount: { cents: "100" } } })).toEqual([
      ["/price/amount/cents", 'expected long, got string "100"'],
    ]);
  });

  test("a schema avsc cannot parse is invalid_schema", () => {
    const error = compileError("avro", {
      content: { type: "record", name: "R", fields: [{ name: "x", type: "nope" }] },
    });
    expect(error.code).toBe("invalid_schema");
    expect(error.details.schema_type).toBe("avro");
  });

  test("a recursive record 100,000 levels deep is rejected quickly", () => {
    const list = avro({
      type: "record",
      name: "Node",
      fields: [{ name: "next", type: ["null", "Node"], default: null }],
    });
    let document: unknown = { next: null };
    for (let i = 0; i < 100_000; i++) document = { next: document };
    expect(timed(() => expect(list.validate(document).valid).toBe(false))).toBeLessThan(500);
  });
});

// ---------------------------------------------------------------------------

const orders = `syntax = "proto3";
package acme.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/any.proto";

message Order {
  string order_id = 1;
  int64 total_cents = 2;
  repeated Item items = 3;
  map<string, int32> counts = 4;
  Status status = 5;
  google.protobuf.Timestamp placed_at = 6;
  oneof payment {
    string card = 7;
    string iban = 8;
  }
  bytes signature = 9;
  optional int32 priority = 10;
  google.protobuf.Duration ttl = 11;
  google.protobuf.Struct metadata = 12;
  google.protobuf.StringValue note = 13;
  map<int32, string> by_slot = 14;
  double weight = 15;
  google.protobuf.Any extension = 16;
  string label = 17 [json_name = "displayLabel"];
}

message Item {
  string sku = 1;
  uint32 quantity = 2;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  PAID = 1;
}
`;

describe("Protobuf", () => {
  const validator = proto(orders);

  test("the proto3 JSON mapping of the first message, by JSON names and proto names", () => {
    expectValid(validator, {
      orderId: "o-1",
      total_cents: "12345",
      items: [{ sku: "A", quantity: 2 }],
      counts: { a: 1 },
      status: "PAID",
      placedAt: "2024-05-01T12:00:00.123Z",
      card: "4111",
      signature: "AAEC/w==",
      priority: 0,
      ttl: "1.5s",
      metadata: { any: ["json", 1] },
      note: "hello",
      bySlot: { "3": "x" },
      weight: "NaN",
      extension: { "@type": "type.googleapis.com/acme.v1.Item", sku: "B" },
      displayLabel: "L",
    });
  });

  test("numbers in either JSON form, enums by name or number, null as not set", () => {
    expectValid(validator, { totalCents: 12345, status: 1, items: [{ quantity: "3" }], placedAt: null });
  });

  test("unknown fields and type mismatches, with paths", () => {
    expect(errorsOf(validator, { orderId: 5, items: [{ sku: "A", qty: 1 }], bogus: true })).toEqual([
      ["/orderId", "expected string, got number 5"],
      ["/items/0", "unknown field 'qty' (message acme.v1.Item has no such field)"],
      ["", "unknown field 'bogus' (message acme.v1.Order has no such field)"],
    ]);
  });

  test("ranges, enums, bytes and map keys", () => {
    expect(
      errorsOf(validator, {
        totalCents: "9223372036854775808",
        items: [{ quantity: -1 }],
        status: "SHIPPED",
        signature: "not base64!",
        bySlot: { slot: "x" },
        counts: { a: 1.5 },
      }),
    ).toEqual([
      ["/totalCents", 'expected int64, got string "9223372036854775808" (out of range)'],
      ["/items/0/quantity", "expected uint32, got number -1 (out of range)"],
      ["/status", 'expected a value of enum acme.v1.Status (STATUS_UNSPECIFIED, PAID), got string "SHIPPED"'],
      ["/signature", 'expected bytes, got string "not base64!" (bytes are base64 in JSON)'],
      ["/bySlot", "map key 'slot' is not a int32"],
      ["/counts/a", "expected int32, got number 1.5"],
    ]);
  });

  test("oneof members are exclusive; a field may not be given by both names", () => {
    expect(errorsOf(validator, { card: "4111", iban: "DE00", order_id: "a", orderId: "b" })).toEqual([
      ["", "'card' and 'iban' are both set, but belong to oneof 'payment': at most one may be"],
      ["", "field 'order_id' is given twice, as 'order_id' and 'orderId'"],
    ]);
  });

  test("well-known types in their JSON forms", () => {
    expect(
      errorsOf(validator, {
        placedAt: "yesterday",
        ttl: "90 minutes",
        metadata: [1],
        note: 5,
        extension: { sku: "B" },
      }),
    ).toEqual([
      ["/placedAt", 'expected an RFC 3339 timestamp such as "2024-05-01T12:00:00Z", got string "yesterday"'],
      ["/ttl", 'expected a duration in seconds such as "1.5s", got string "90 minutes"'],
      ["/metadata", "expected an object (google.protobuf.Struct), got array"],
      ["/note", "expected string, got number 5"],
      ["/extension", 'expected an object with an "@type" string (google.protobuf.Any), got object'],
    ]);
    expect(
      errorsOf(validator, { extension: { "@type": "type.googleapis.com/acme.v1.Item", quantity: "x" } }),
    ).toEqual([["/extension/quantity", 'expected uint32, got string "x"']]);
  });

  test("messageName picks another message; an unknown one is invalid_request", () => {
    const items = proto(orders, [], { messageName: "acme.v1.Item" });
    expectValid(items, { sku: "A", quantity: 1 });
    expect(errorsOf(items, { orderId: "x" })).toEqual([
      ["", "unknown field 'orderId' (message acme.v1.Item has no such field)"],
    ]);
    expectValid(proto(orders, [], { messageName: "Item" }), { quantity: 2 });
    const error = compileError("protobuf", { content: orders }, { messageName: "acme.v1.Nope" });
    expect(error.code).toBe("invalid_request");
  });

  test("proto2 required fields", () => {
    const validator = proto(
      `syntax = "proto2"; message Ping { required string id = 1; optional int32 n = 2; }`,
    );
    expectValid(validator, { id: "x" });
    expect(errorsOf(validator, { n: 1 })).toEqual([["", "missing required field 'id'"]]);
  });

  test("references supply imported files", () => {
    const money = `syntax = "proto3"; package acme.common; message Money { string currency = 1; int64 units = 2; }`;
    const validator = proto(
      `syntax = "proto3"; package acme.v1; import "acme/common/money.proto";
       message Invoice { acme.common.Money total = 1; }`,
      [{ name: "acme/common/money.proto", content: money }],
    );
    expectValid(validator, { total: { currency: "EUR", units: "100" } });
    expect(errorsOf(validator, { total: { currency: "EUR", units: "lots" } })).toEqual([
      ["/total/units", 'expected int64, got string "lots"'],
    ]);
  });

  test("a source protobufjs cannot parse or resolve, or one without a message, is invalid_schema", () => {
    expect(compileError("protobuf", { content: 'syntax = "proto3"; message {' }).code).toBe("invalid_schema");
    expect(
      compileError("protobuf", { content: 'syntax = "proto3"; message A { Missing m = 1; }' }).code,
    ).toBe("invalid_schema");
    const empty = compileError("protobuf", { content: 'syntax = "proto3"; enum E { E0 = 0; }' });
    expect(empty.code).toBe("invalid_schema");
    expect(empty.message).toContain("no message");
  });

  test("a message document must be an object", () => {
    expect(errorsOf(validator, [1])).toEqual([["", "expected an object (message acme.v1.Order), got array"]]);
  });
});
