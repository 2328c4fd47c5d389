/**
 * Hostile requests for the fuzz tests, as fast-check arbitraries.
 *
 * The routes come from the server itself: the native API from its OpenAPI
 * document (paths, parameters, body schemas), Confluent's from its route
 * table (CONFLUENT_ROUTES). A route added to either is fuzzed without a
 * change here. Every request aims at one route and then goes wrong in some
 * of the ways below, each chosen with a weight:
 *
 * - path parameters: the fixtures' own subjects, ids and versions (so deep
 *   code paths run), traversal (`../`, `%2e%2e`, `%2F`), control characters,
 *   overlong and invalid percent-encodings, huge numbers, odd Unicode;
 * - query strings: every documented parameter with wrong types, repeats,
 *   absurd lengths, NUL, and unknown parameters;
 * - headers: odd media types, hostile request ids and ETags, huge and many
 *   headers (over the bounds too);
 * - bodies: the route's own body shape (from its schema) with wrong types
 *   inside, JSON nested up to 100,000 levels, invalid UTF-8, NUL in keys and
 *   strings, JSON Schemas with catastrophic patterns, Avro and Protobuf
 *   garbage, content large enough for the object store, bodies over the
 *   size limit;
 * - raw requests over a socket, for what fetch() would normalise or refuse
 *   to send: `..` segments, raw non-ASCII bytes, GET with a body, bad
 *   chunked framing, odd methods and request lines.
 *
 * Large values are built from small descriptions (`.map`), so generating
 * and shrinking stay cheap whatever the bytes sent.
 */
import fc from "fast-check";

/** One request as it is sent; `target` is the path and query as on the request line. */
export interface FuzzRequest {
  /** The route aimed at, `METHOD /template`, for coverage counts and messages. */
  route: string;
  method: string;
  target: string;
  headers: [string, string][];
  body: Uint8Array | null;
  /** Sent as bytes over a socket rather than through fetch(); `target` is then a byte string (latin1). */
  raw: boolean;
  /** A raw request that is malformed HTTP on purpose: the server may close the connection without an answer. */
  malformed: boolean;
  /** Whether a 2xx answer may have changed stored data (false: reads, dry runs, validations). */
  mutating: boolean;
}

export interface RouteSpec {
  api: "native" | "confluent" | "other";
  method: string;
  /** With `{name}` placeholders. */
  template: string;
  pathParams: string[];
  queryParams: string[];
  /** The JSON Schema of the body (native routes), with `#/components/...` references resolvable in `components`. */
  bodySchema?: JsonSchema;
  hasBody: boolean;
  mutating: boolean;
}

type JsonSchema = { [key: string]: unknown };

/** What the fixtures registered before fuzzing: the values that reach past "not found". */
export interface FuzzFixtures {
  subjects: string[];
  /** Native ids: global ids and UUIDs. */
  ids: string[];
  /** Confluent schema ids. */
  schemaIds: number[];
  versions: string[];
}

/** Query parameters Confluent's routes read (docs/confluent.md); its route table does not list them. */
const CONFLUENT_QUERY = [
  "deleted",
  "deletedOnly",
  "permanent",
  "normalize",
  "format",
  "subject",
  "subjectPrefix",
  "latestOnly",
  "offset",
  "limit",
  "defaultToGlobal",
  "force",
  "verbose",
  "key",
  "value",
];

/** Dry runs and reads sent as POST: a 2xx from these must change nothing either. */
function isDryRun(api: RouteSpec["api"], method: string, template: string): boolean {
  if (/\/(validate|compatibility)(\/|$)/.test(template) || template.startsWith("/compatibility/"))
    return true;
  // Confluent's lookup: "is this schema registered under the subject?"
  if (api === "confluent" && method === "POST" && template === "/subjects/{subject}") return true;
  // A presigned upload URL is handed out; nothing is stored until the register.
  return api === "native" && template.endsWith("/uploads");
}

/** Every route of both APIs and the operations routes, from the OpenAPI document and Confluent's table. */
export function routesFrom(
  openapi: { paths: Record<string, Record<string, JsonSchema>> },
  confluentRoutes: readonly { method: string; path: string }[],
): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const [template, operations] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []) as { in: string; name: string }[];
      const body = operation.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined;
      const api = template.startsWith("/api/") ? "native" : "other";
      const upper = method.toUpperCase();
      routes.push({
        api,
        method: upper,
        template,
        pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === "query").map((p) => p.name),
        ...(body?.content?.["application/json"]?.schema
          ? { bodySchema: body.content["application/json"].schema }
          : {}),
        hasBody: body !== undefined,
        mutating: upper !== "GET" && upper !== "HEAD" && !isDryRun(api, upper, template),
      });
    }
  }
  for (const route of confluentRoutes) {
    const template = route.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    routes.push({
      api: "confluent",
      method: route.method,
      template,
      pathParams: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
      queryParams: CONFLUENT_QUERY,
      hasBody: route.method === "POST" || route.method === "PUT",
      mutating: route.method !== "GET" && !isDryRun("confluent", route.method, template),
    });
  }
  return routes;
}

// ---------------------------------------------------------------- text pieces

const encoder = new TextEncoder();
const utf8 = (text: string) => encoder.encode(text);

/** Arrays or objects nested `depth` levels, built without recursion. */
export function deepJson(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const DEPTHS = [2, 32, 33, 999, 1000, 1001, 1023, 1024, 1025, 1030, 5000, 100_000];

/** Catastrophic (for a backtracking engine) and odd patterns. */
const PATTERNS = [
  "^(a+)+$",
  "(a|aa)+$",
  "(.*a){25}",
  "^(\\w+\\s?)*$",
  "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
  "(x+x+)+y",
  "\\p{L}+",
  "(?<=a)b",
  "(?=a)*",
  "\\1(a)",
  "[",
  "(",
  "a{99999999}",
  "a{2,1}",
  "(?i)a",
  "\\u0000",
  ".*".repeat(200),
  "(((((((((((((((((((((a)))))))))))))))))))))".repeat(20),
];

/** Strings that go wrong somewhere: types, encodings, lengths, injections. */
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f",
  "\t\n\r",
  "../../../../etc/passwd",
  "..\\..\\windows",
  "%00",
  "%2e%2e%2f",
  "'; DROP TABLE schemas; --",
  "%_\\",
  "\uFEFF",
  "\uD800",
  "\uDFFF\uD800",
  "\u202Egnp.exe",
  "😀".repeat(300),
  "a".repeat(256),
  "A".repeat(70_000),
  "null",
  "true",
  "-1",
  "0",
  "1e309",
  "NaN",
  "9223372036854775808",
  "[object Object]",
  "__proto__",
  "constructor",
  ":.ctx:subject",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup, sent as it is
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
];

const nastyString = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
);

const nastyNumber = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    -0,
    1,
    2 ** 31,
    2 ** 31 - 1,
    2 ** 53,
    -(2 ** 53),
    1e308,
    0.5,
    Number.MAX_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, mostly small, with the nasty strings among the leaves. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
  { arbitrary: nastyString, weight: 2 },
  { arbitrary: nastyNumber, weight: 1 },
  {
    arbitrary: fc.dictionary(nastyString, fc.oneof(nastyString, nastyNumber, fc.constant(null)), {
      maxKeys: 4,
    }),
    weight: 1,
  },
);

// ---------------------------------------------------------------- schema content

/** A JSON Schema that goes wrong: catastrophic patterns, NUL keys, odd keywords, sizes for the object store. */
const jsonSchemaContent: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    type: fc.constantFrom("string", "object", "array", "integer", "nope", 7),
    pattern: fc.constantFrom(...PATTERNS),
  }),
  fc.record({
    type: fc.constant("object"),
    patternProperties: fc.dictionary(fc.constantFrom(...PATTERNS), fc.constant({ type: "string" }), {
      maxKeys: 3,
    }),
    propertyNames: fc.record({ pattern: fc.constantFrom(...PATTERNS) }),
  }),
  fc.record({
    type: fc.constant("object"),
    properties: fc.dictionary(nastyString, fc.oneof(fc.constant({ type: "string" }), anyJson), {
      maxKeys: 5,
    }),
    required: fc.array(nastyString, { maxLength: 3 }),
  }),
  fc.record({
    $ref: fc.constantFrom(
      "#",
      "#/definitions/missing",
      "http://169.254.169.254/latest",
      "file:///etc/passwd",
      "../x.json",
      "#/$defs/a",
    ),
    $defs: fc.constant({ a: { $ref: "#/$defs/a" } }),
  }),
  fc.record({
    $schema: fc.constantFrom(
      "http://json-schema.org/draft-07/schema#",
      "https://json-schema.org/draft/2020-12/schema",
      "http://example.com/unknown",
      "x",
    ),
    type: fc.constant("string"),
    format: fc.constantFrom("regex", "email", "uri", "date-time", "unknown-format"),
    minLength: nastyNumber,
    maxLength: nastyNumber,
    multipleOf: nastyNumber,
    enum: fc.array(anyJson, { maxLength: 3 }),
  }),
  // Large enough for the object store (4 KiB and up), with something wrong or right inside.
  fc
    .record({
      size: fc.integer({ min: 4096, max: 40_000 }),
      nul: fc.boolean(),
      type: fc.constantFrom("object", "nope"),
    })
    .map(({ size, nul, type }) => ({
      type,
      description: `${"d".repeat(size)}${nul ? "\u0000" : ""}`,
    })),
  fc.record({ "\u0000": fc.constant({ type: "string" }), type: fc.constant("object") }),
  anyJson,
);

/** Avro that goes wrong: missing names, bad defaults, absurd sizes, recursion, odd names. */
const avroContent: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    type: fc.constantFrom("record", "error", "enum", "fixed", "array", "map", "nope"),
    name: fc.oneof(fc.constantFrom("Ok", "a.b.C", "1bad", "", "a..b", "null", "int"), nastyString),
    fields: fc.oneof(
      fc.array(
        fc.record({
          name: fc.oneof(fc.constant("f"), nastyString),
          type: fc.oneof(
            fc.constantFrom("int", "long", "string", "null", "boolean", "bytes", "Self", "Ok", "nope"),
            fc.constant(["null", "null"]),
            fc.constant({ type: "fixed", name: "F", size: -1 }),
            fc.constant({ type: "fixed", name: "F", size: 1e12 }),
            fc.constant({ type: "bytes", logicalType: "decimal", precision: 0, scale: 9 }),
            anyJson,
          ),
          default: anyJson,
        }),
        { maxLength: 4 },
      ),
      anyJson,
    ),
    symbols: fc.array(nastyString, { maxLength: 4 }),
    size: nastyNumber,
    items: fc.constantFrom("int", "Ok", { type: "array", items: "nope" }),
    aliases: fc.array(nastyString, { maxLength: 2 }),
  }),
  fc.constantFrom("int", "string", "nope", "null", '"int"', "[]", "{}"),
  fc.array(fc.constantFrom("null", "int", "int", { type: "record", name: "R", fields: [] }), {
    maxLength: 4,
  }),
  anyJson,
);

/** Protobuf sources that go wrong, nested message blocks up to 100,000 deep among them. */
const protobufContent: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    'syntax = "proto3";',
    'syntax = "proto9";',
    'syntax = "proto3"; message A { int32 a = 0; }',
    'syntax = "proto3"; message A { int32 a = 536870912; }',
    'syntax = "proto3"; message A { int32 a = 19000; }',
    'syntax = "proto3"; message A { A a = 1; }',
    'syntax = "proto3"; message A { map<A, string> m = 1; }',
    'syntax = "proto3"; import "../../../../etc/passwd"; message A {}',
    'syntax = "proto3"; import "google/protobuf/../../x.proto"; message A {}',
    'syntax = "proto3"; import public "missing.proto";',
    'syntax = "proto3"; message A { oneof o { } }',
    'syntax = "proto3"; option (x).y = "z"; message A {}',
    'syntax = "proto2"; message A { required group G = 1 { } }',
    'syntax = "proto3"; enum E { A = 1; }',
    'syntax = "proto3"; message A { reserved 1 to max; int32 a = 1; }',
    "message \u0000 {}",
    "/* unterminated",
    '"unterminated',
    "CgRhLnByb3RvIgMKAUE=",
    "////////",
    "Cg==",
  ),
  fc
    .record({
      depth: fc.constantFrom(10, 100, 1000, 5000, 100_000),
      kind: fc.constantFrom("message", "paren", "brace"),
    })
    .map(({ depth, kind }) =>
      kind === "message"
        ? `syntax = "proto3"; ${"message A { ".repeat(depth)}${"}".repeat(depth)}`
        : kind === "paren"
          ? `syntax = "proto3"; option (a) = ${"(".repeat(depth)};`
          : `syntax = "proto3"; option (a) = ${"{ a: ".repeat(depth)}1${" }".repeat(depth)};`,
    ),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.base64String({ maxLength: 200 }),
);

const schemaTypes = fc.oneof(
  { arbitrary: fc.constantFrom("json", "avro", "protobuf"), weight: 5 },
  { arbitrary: fc.constantFrom("JSON", "AVRO", "PROTOBUF", "xml", ""), weight: 1 },
  { arbitrary: anyJson, weight: 1 },
);

/** Content for a schema type: a value for json and avro, source for protobuf, or anything at all. */
function contentFor(schemaType: unknown): fc.Arbitrary<unknown> {
  const own =
    schemaType === "avro" || schemaType === "AVRO"
      ? avroContent
      : schemaType === "protobuf" || schemaType === "PROTOBUF"
        ? protobufContent
        : jsonSchemaContent;
  return fc.oneof(
    { arbitrary: own, weight: 6 },
    // The JSON and Avro forms also arrive as JSON text in a string.
    { arbitrary: own.map((value) => (typeof value === "string" ? value : JSON.stringify(value))), weight: 2 },
    { arbitrary: anyJson, weight: 1 },
  );
}

// ---------------------------------------------------------------- bodies from schemas

function resolve(schema: JsonSchema, components: JsonSchema): JsonSchema {
  let current = schema;
  for (let i = 0; i < 8 && typeof current.$ref === "string"; i++) {
    const path = (current.$ref as string).replace(/^#\//, "").split("/");
    let target: unknown = { components };
    for (const part of path) target = (target as JsonSchema)?.[part];
    current = (target as JsonSchema) ?? {};
  }
  return current;
}

/** A value the schema describes, mostly; with a wrong one of any type now and then. */
function schemaValue(schema: JsonSchema, components: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema, components);
  const wrong = { arbitrary: anyJson, weight: 1 };
  if (depth > 4) return anyJson;
  if (Array.isArray(resolved.enum)) {
    return fc.oneof({ arbitrary: fc.constantFrom(...(resolved.enum as unknown[])), weight: 4 }, wrong);
  }
  const alternatives = (resolved.anyOf ?? resolved.oneOf) as JsonSchema[] | undefined;
  if (alternatives?.length) {
    return fc.oneof(
      ...alternatives.map((alternative) => schemaValue(alternative, components, depth + 1)),
      anyJson,
    );
  }
  const types = Array.isArray(resolved.type)
    ? (resolved.type as string[])
    : [resolved.type as string | undefined];
  const type = types.find((t) => t !== "null") ?? (resolved.properties ? "object" : undefined);
  switch (type) {
    case "object": {
      const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>;
      const entries = Object.entries(properties);
      if (entries.length === 0)
        return fc.oneof({ arbitrary: fc.dictionary(nastyString, anyJson, { maxKeys: 3 }), weight: 3 }, wrong);
      const record = fc.record(
        Object.fromEntries(entries.map(([key, child]) => [key, schemaValue(child, components, depth + 1)])),
        { requiredKeys: [] },
      );
      return fc.oneof(
        { arbitrary: record, weight: 6 },
        {
          arbitrary: fc
            .tuple(record, fc.dictionary(nastyString, anyJson, { maxKeys: 2 }))
            .map(([own, extra]) => ({ ...extra, ...(own as object) })),
          weight: 1,
        },
        wrong,
      );
    }
    case "array":
      return fc.oneof(
        {
          arbitrary: fc.array(schemaValue((resolved.items ?? {}) as JsonSchema, components, depth + 1), {
            maxLength: 4,
          }),
          weight: 4,
        },
        wrong,
      );
    case "string":
      return fc.oneof(
        { arbitrary: fc.string({ maxLength: 12 }), weight: 2 },
        { arbitrary: nastyString, weight: 2 },
        wrong,
      );
    case "integer":
    case "number":
      return fc.oneof(
        { arbitrary: fc.integer({ min: -2, max: 100 }), weight: 2 },
        { arbitrary: nastyNumber, weight: 2 },
        wrong,
      );
    case "boolean":
      return fc.oneof({ arbitrary: fc.boolean(), weight: 3 }, wrong);
    default:
      return anyJson;
  }
}

/**
 * A body for a native route: its schema's shape, with content of the right
 * or wrong type where the body carries content, and the fixtures' names.
 */
function nativeBody(route: RouteSpec, components: JsonSchema, fixtures: FuzzFixtures): fc.Arbitrary<unknown> {
  const base = route.bodySchema ? schemaValue(route.bodySchema, components) : anyJson;
  const resolved = route.bodySchema ? resolve(route.bodySchema, components) : {};
  const properties = (resolved.properties ?? {}) as Record<string, unknown>;
  if ("content" in properties) {
    // Valid content for the object store under a fixture's subject and version: refused late (the
    // version is taken), after the upload, so the object must go again with the refusal.
    const lateRefusal = fc
      .record({
        subject: fc.constantFrom(...fixtures.subjects),
        version: fc.constantFrom("1.0.0", "1.1.0"),
        size: fc.integer({ min: 4096, max: 200_000 }),
        nonce: fc.integer(),
      })
      .map(({ subject, version, size, nonce }) => ({
        subject,
        version,
        schema_type: "json",
        content: { type: "object", description: `${nonce} ${"late ".repeat(Math.ceil(size / 5))}` },
      }));
    const hostile = fc
      .record({
        base,
        schemaType: schemaTypes,
        subject: fc.oneof(fc.constantFrom(...fixtures.subjects), fc.constant("fuzz.new"), nastyString),
        version: fc.oneof(fc.constantFrom(...fixtures.versions, "1.0.0", "99.0.0"), nastyString),
        deep: fc.option(
          fc.record({ depth: fc.constantFrom(...DEPTHS), kind: fc.constantFrom("array", "object") }),
          {
            freq: 6,
          },
        ),
        where: fc.constantFrom("content", "metadata"),
      })
      .chain(({ base, schemaType, subject, version, deep, where }) =>
        contentFor(schemaType).map((content) => {
          const body: Record<string, unknown> = {
            ...(typeof base === "object" && base !== null && !Array.isArray(base) ? base : {}),
            schema_type: schemaType,
            content,
          };
          if ("subject" in properties) body.subject = subject;
          if ("version" in properties && version !== "") body.version = version;
          delete body.upload_id;
          // Deep values go in as text: the object itself would be too deep to stringify.
          if (deep)
            return {
              __raw: JSON.stringify(body).replace(
                /}$/,
                `,"${where === "content" ? "content" : "metadata"}":${where === "content" ? deepJson(deep.depth, deep.kind) : `{"custom":${deepJson(deep.depth, deep.kind)}}`}}`,
              ),
            };
          return body;
        }),
      );
    return fc.oneof({ arbitrary: hostile, weight: 9 }, { arbitrary: lateRefusal, weight: 1 });
  }
  if ("documents" in properties || route.template.endsWith("/validate")) {
    return fc.oneof(
      base,
      fc.record({
        documents: fc.array(
          fc.oneof(anyJson, fc.constantFrom(...PATTERNS.map((p) => `${p}${"a".repeat(40)}!`))),
          { maxLength: 20 },
        ),
      }),
      fc
        .integer({ min: 1001, max: 1100 })
        .map((n) => ({ documents: Array.from({ length: n }, (_, i) => i) })),
      fc.constant(`${"a".repeat(50_000)}!`),
      // Strings that take a backtracking engine exponential time on `^(a+)+$` and `^(x+x+)+y$`.
      fc
        .record({ n: fc.constantFrom(30, 40, 5000), key: fc.constantFrom("name", "x") })
        .map(({ n, key }) => (key === "name" ? { name: `${"a".repeat(n)}!` } : { [`${"x".repeat(n)}`]: 1 })),
    );
  }
  return base;
}

/** A body for a Confluent route: its schema envelope, config or mode, with hostile values. */
function confluentBody(route: RouteSpec): fc.Arbitrary<unknown> {
  if (route.template.startsWith("/config")) {
    return fc.record(
      {
        compatibility: fc.oneof(
          fc.constantFrom("BACKWARD", "FULL_TRANSITIVE", "NONE", "backward", "SIDEWAYS"),
          anyJson,
        ),
        compatibilityLevel: anyJson,
        normalize: anyJson,
      },
      { requiredKeys: [] },
    );
  }
  if (route.template.startsWith("/mode")) {
    // Invalid modes mostly: a valid one is a write (the batch is then not checked), READONLY and IMPORT shut the write path.
    return fc.record(
      {
        mode: fc.oneof(
          { arbitrary: fc.constantFrom("readwrite", "WRITEONLY", "", "READ WRITE"), weight: 8 },
          { arbitrary: fc.constantFrom("READONLY", "IMPORT", "READONLY_OVERRIDE"), weight: 1 },
          { arbitrary: anyJson, weight: 1 },
        ),
      },
      { requiredKeys: [] },
    );
  }
  return fc
    .record({
      schemaType: fc.oneof(fc.constantFrom("JSON", "AVRO", "PROTOBUF", "json", "XML"), anyJson),
      references: fc.oneof(
        fc.constant(undefined),
        fc.array(
          fc.record(
            { name: nastyString, subject: nastyString, version: fc.oneof(nastyNumber, nastyString) },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        anyJson,
      ),
      id: fc.option(nastyNumber),
      version: fc.option(nastyNumber),
      metadata: fc.option(anyJson, { freq: 8 }),
      ruleSet: fc.option(anyJson, { freq: 8 }),
      rawSchema: fc.option(anyJson, { freq: 4 }),
    })
    .chain(({ schemaType, references, id, version, metadata, ruleSet, rawSchema }) =>
      contentFor(typeof schemaType === "string" ? schemaType.toLowerCase() : "json").map((content) => {
        const body: Record<string, unknown> = {
          schema: rawSchema ?? (typeof content === "string" ? content : JSON.stringify(content)),
          schemaType,
        };
        if (references !== undefined) body.references = references;
        if (id !== null) body.id = id;
        if (version !== null) body.version = version;
        if (metadata !== null) body.metadata = metadata;
        if (ruleSet !== null) body.ruleSet = ruleSet;
        return body;
      }),
    );
}

/** Bodies that are wrong whatever the route: not JSON, too deep, bad bytes, too big, wrong top-level types. */
const hostileBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        depth: fc.constantFrom(...DEPTHS),
        kind: fc.constantFrom("array", "object"),
        wrap: fc.constantFrom("", "documents", "schema"),
      })
      .map(({ depth, kind, wrap }) => {
        const deep = deepJson(depth, kind);
        if (wrap === "documents") return utf8(`{"documents":[${deep}]}`);
        if (wrap === "schema") return utf8(JSON.stringify({ schema: deep, schemaType: "JSON" }));
        return utf8(deep);
      }),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      // Invalid UTF-8: a lone continuation byte, an overlong `/`, a surrogate, a truncated sequence, 0xFF.
      new Uint8Array([
        0x7b, 0x22, 0x73, 0x75, 0x62, 0x6a, 0x65, 0x63, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
      ]),
      new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
      new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]),
      new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d]),
      new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
      new Uint8Array([0x00]),
      new Uint8Array([0x80, 0x81, 0x82]),
      utf8(""),
      utf8("{"),
      utf8("nul"),
      utf8('{"a":1,"a":2}'),
      utf8('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'),
      utf8("1e999999"),
      utf8("-"),
      utf8('"\\ud800"'),
      utf8('{"\\u0000":"\\u0000"}'),
      utf8(`[${"1,".repeat(100_000)}1]`),
      utf8(`{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`),
    ),
  },
  { weight: 3, arbitrary: anyJson.map((value) => utf8(JSON.stringify(value) ?? "null")) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  // Over the request body limit (about 8.1 MB with MAX_SCHEMA_BYTES of 4 MiB): 413, never read into memory in full.
  { weight: 1, arbitrary: fc.constantFrom(9 * 1024 * 1024).map((size) => new Uint8Array(size).fill(0x20)) },
);

// ---------------------------------------------------------------- paths, queries, headers

type Segment = { text: string; raw: boolean };

/** Percent-encoded; a lone surrogate has no UTF-8 form, so it is sent as U+FFFD (raw %ED%A0%80 is among the literals). */
const uriEncode = (text: string): string =>
  encodeURIComponent((text as string & { toWellFormed(): string }).toWellFormed());
const enc = (text: string): Segment => ({ text: uriEncode(text), raw: false });
const literal = (text: string): Segment => ({ text, raw: false });
const rawBytes = (text: string): Segment => ({ text, raw: true });

/** A path segment that goes wrong: traversal, bad escapes, control characters, raw bytes. */
const hostileSegment: fc.Arbitrary<Segment> = fc.oneof(
  nastyString.map(enc),
  fc.constantFrom(
    literal("%2e%2e"),
    literal("..%2F..%2F..%2Fetc%2Fpasswd"),
    literal("%2F"),
    literal("%00"),
    literal("%ZZ"),
    literal("%"),
    literal("%C0%AF"),
    literal("%FF%FE"),
    literal("%ED%A0%80"),
    literal("%25"),
    literal("a%0Ab"),
    literal(""),
    literal("%20"),
    literal(";jsessionid=1"),
    rawBytes(".."),
    rawBytes("../../.."),
    rawBytes("\xff\xfe"),
    rawBytes("\xc0\xaf"),
    rawBytes("a\x00b"),
    rawBytes("a b"),
    rawBytes("\\..\\.."),
  ),
);

function paramValue(name: string, route: RouteSpec, fixtures: FuzzFixtures): fc.Arbitrary<Segment> {
  const own: fc.Arbitrary<Segment> =
    name === "subject"
      ? fc.constantFrom(...fixtures.subjects).map(enc)
      : name === "version"
        ? fc
            .constantFrom(
              ...fixtures.versions,
              "latest",
              "-1",
              "1",
              "2",
              "0",
              "2147483648",
              "1.0.0-rc.1+b",
              "99999999999999999999",
            )
            .map(enc)
        : name === "id" && route.api === "confluent"
          ? fc
              .constantFrom(...fixtures.schemaIds.map(String), "0", "-1", "1.5", "9007199254740993", "1e3")
              .map(enc)
          : name === "id"
            ? fc
                .constantFrom(
                  ...fixtures.ids,
                  "0",
                  "-1",
                  "00000000-0000-0000-0000-000000000000",
                  "9".repeat(40),
                )
                .map(enc)
            : fc.string({ maxLength: 10 }).map(enc);
  return fc.oneof({ arbitrary: own, weight: 5 }, { arbitrary: hostileSegment, weight: 3 });
}

const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "true",
    "TRUE",
    "false",
    "1",
    "0",
    "-1",
    "",
    "latest",
    "serialized",
    "content",
    "created_at",
    "desc",
    "json",
  ),
  nastyString.map(uriEncode),
  fc.constantFrom("%00", "%ZZ", "%FF", "a%26b%3Dc", "%2F..%2F"),
  fc.integer({ min: 1000, max: 15_000 }).map((n) => "q".repeat(n)),
);

function queryString(route: RouteSpec): fc.Arbitrary<string> {
  const names = [...route.queryParams, "unknown", "__proto__", ""];
  const pair = fc.tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom(...names), weight: 5 },
      { arbitrary: nastyString.map(uriEncode), weight: 1 },
    ),
    queryValue,
  );
  return fc.oneof(
    { arbitrary: fc.constant(""), weight: 3 },
    {
      arbitrary: fc
        .array(pair, { maxLength: 5 })
        .map((pairs) => (pairs.length ? `?${pairs.map(([n, v]) => `${n}=${v}`).join("&")}` : "")),
      weight: 6,
    },
    // The same parameter many times, and a query that is all separators.
    { arbitrary: fc.integer({ min: 50, max: 2000 }).map((n) => `?${"tags=a&".repeat(n)}`), weight: 1 },
    { arbitrary: fc.constantFrom("?", "?&&&", "?=", "?a", "?a=1=2", "?%", "#frag"), weight: 1 },
  );
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "application/vnd.schemaregistry.v1+json",
  "application/octet-stream",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/xml",
  "",
  "json",
  ";;;",
  "application/json, text/plain",
  "APPLICATION/JSON",
];

const headerArb: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constant("accept"),
    fc.constantFrom(
      "*/*",
      "application/xml",
      "text/html",
      "application/vnd.schemaregistry.v1+json;q=0",
      "garbage",
    ),
  ),
  fc.tuple(
    fc.constant("x-request-id"),
    fc.oneof(
      fc.constantFrom("", "a".repeat(500), "id with spaces", "../..", "\u00e9"),
      fc.string({ maxLength: 30 }),
    ),
  ),
  fc.tuple(
    fc.constant("if-none-match"),
    fc.constantFrom('"x"', "*", "W/", '"'.repeat(100), "a".repeat(2000)),
  ),
  fc.tuple(fc.constant("content-encoding"), fc.constantFrom("gzip", "br", "deflate", "identity", "garbage")),
  fc.tuple(
    fc.constant("authorization"),
    fc.constantFrom("Bearer ", "Basic !!!", `Basic ${btoa("a:b")}`, `Bearer ${"x".repeat(3000)}`, "Digest x"),
  ),
  fc.tuple(
    fc.constantFrom("range", "x-forwarded-for", "origin", "cookie", "expect"),
    fc.constantFrom("bytes=0-1", "::1, 1.2.3.4", "null", "a=b", "100-continue", "bytes=-1,-2,-3"),
  ),
  fc.tuple(
    fc
      .string({
        unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_".split("")),
        minLength: 1,
        maxLength: 20,
      })
      .map((name) => `x-${name}`),
    fc.string({
      unit: fc.constantFrom(
        ..."abcdefghijklmnopqrstuvwxyz0123456789 !#$%&'()*+,-./:;<=>?@[]^_`{|}~".split(""),
      ),
      maxLength: 60,
    }),
  ),
);

/** Headers over the bounds: one huge value, or a great many. */
const oversizedHeaders: fc.Arbitrary<[string, string][]> = fc.oneof(
  fc.integer({ min: 12_000, max: 40_000 }).map((size): [string, string][] => [["x-big", "b".repeat(size)]]),
  fc
    .integer({ min: 50, max: 300 })
    .map((count) => Array.from({ length: count }, (_, i): [string, string] => [`x-h${i}`, "v".repeat(50)])),
);

// ---------------------------------------------------------------- requests

function fillTemplate(route: RouteSpec, values: Segment[]): { path: string; raw: boolean } {
  let i = 0;
  let raw = false;
  const path = route.template.replace(/\{[^}]+\}/g, () => {
    const value = values[i++]!;
    raw ||= value.raw;
    return value.text;
  });
  return { path, raw };
}

function bodyBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "object" && value !== null && "__raw" in value)
    return utf8(String((value as { __raw: string }).__raw));
  return utf8(JSON.stringify(value) ?? "null");
}

/** A request aimed at `route`, gone wrong in a few of the ways listed at the top. */
export function requestFor(
  route: RouteSpec,
  components: JsonSchema,
  fixtures: FuzzFixtures,
): fc.Arbitrary<FuzzRequest> {
  const body: fc.Arbitrary<Uint8Array | null> = route.hasBody
    ? fc.oneof(
        {
          arbitrary: (route.api === "confluent"
            ? confluentBody(route)
            : nativeBody(route, components, fixtures)
          ).map(bodyBytes),
          weight: 7,
        },
        { arbitrary: hostileBody, weight: 3 },
        { arbitrary: fc.constant(null), weight: 1 },
      )
    : fc.oneof({ arbitrary: fc.constant(null), weight: 9 }, { arbitrary: hostileBody, weight: 1 });
  const methods = route.method === "GET" ? ["GET", "HEAD"] : [route.method];
  return fc
    .record({
      method: fc.oneof(
        { arbitrary: fc.constantFrom(...methods), weight: 20 },
        { arbitrary: fc.constantFrom("PUT", "PATCH", "OPTIONS", "DELETE", "POST"), weight: 1 },
      ),
      params: fc.tuple(...route.pathParams.map((name) => paramValue(name, route, fixtures))) as fc.Arbitrary<
        Segment[]
      >,
      query: queryString(route),
      contentType: fc.oneof(
        {
          arbitrary: fc.constant(
            route.api === "confluent" ? "application/vnd.schemaregistry.v1+json" : "application/json",
          ),
          weight: 8,
        },
        { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 2 },
        { arbitrary: fc.constant(null), weight: 1 },
      ),
      headers: fc.oneof(
        { arbitrary: fc.array(headerArb, { maxLength: 3 }), weight: 30 },
        { arbitrary: oversizedHeaders, weight: 1 },
      ),
      body,
      trailingSlash: fc.oneof(
        { arbitrary: fc.constant(false), weight: 15 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
    })
    .map(({ method, params, query, contentType, headers, body, trailingSlash }) => {
      const { path, raw } = fillTemplate(route, params);
      const sendBody = method === "GET" || method === "HEAD" ? null : body;
      const all: [string, string][] = [...headers];
      if (contentType !== null && sendBody !== null) all.push(["content-type", contentType]);
      return {
        route: `${route.method} ${route.template}`,
        method,
        target: `${path}${trailingSlash ? "/" : ""}${query}`,
        headers: all,
        body: sendBody,
        raw,
        // Bytes outside visible ASCII on the request line are not HTTP: the server may drop the connection.
        malformed: raw && /[^\x21-\x7e]/.test(path),
        // A method other than the route's may reach another route of the path (or a 405): counted as a write.
        mutating:
          method === "GET" || method === "HEAD" || method === "OPTIONS"
            ? false
            : method === route.method
              ? route.mutating
              : true,
      };
    });
}

/** Requests only a raw socket can send: bad framing, odd request lines, GET with a body. */
export function rawRequestFor(route: RouteSpec, fixtures: FuzzFixtures): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      params: fc.tuple(...route.pathParams.map((name) => paramValue(name, route, fixtures))) as fc.Arbitrary<
        Segment[]
      >,
      kind: fc.constantFrom(
        "get-with-body",
        "bad-chunked",
        "two-lengths",
        "odd-method",
        "http10",
        "absolute",
        "bare-lf",
        "no-host",
        "header-no-colon",
        "nul-header",
      ),
    })
    .map(({ params, kind }) => {
      const { path } = fillTemplate(route, params);
      const base: FuzzRequest = {
        route: `${route.method} ${route.template}`,
        method: route.method,
        target: path,
        headers: [],
        body: null,
        raw: true,
        malformed: true,
        mutating: route.mutating,
      };
      switch (kind) {
        case "get-with-body":
          return {
            ...base,
            method: "GET",
            headers: [["content-type", "application/json"]],
            body: utf8(deepJson(100_000, "array")),
            mutating: false,
            malformed: /[^\x21-\x7e]/.test(path),
          };
        case "bad-chunked":
          return {
            ...base,
            headers: [
              ["transfer-encoding", "chunked"],
              ["content-type", "application/json"],
            ],
            body: utf8("ZZ\r\n{}\r\n0\r\n\r\n"),
          };
        case "two-lengths":
          return {
            ...base,
            headers: [
              ["content-length", "2"],
              ["content-length", "5"],
            ],
            body: utf8("{}"),
          };
        case "odd-method":
          return { ...base, method: "FROB", mutating: false };
        case "http10":
          return {
            ...base,
            method: `${route.method}`,
            target: `${path} HTTP/1.0\r\nx-a: b`,
            malformed: true,
          };
        case "absolute":
          return { ...base, target: `http://169.254.169.254${path}` };
        case "bare-lf":
          return { ...base, headers: [["x-a", "b\nx-injected: 1"]] };
        case "no-host":
          return { ...base, headers: [["host", ""]] };
        case "header-no-colon":
          return { ...base, headers: [["x-no-colon-here", "\u0000"]] };
        default:
          return { ...base, headers: [["x-nul", "a\u0000b"]] };
      }
    });
}

/** Paths and methods no route serves, under every prefix. */
export const strayRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    prefix: fc.constantFrom(
      "/api/v1",
      "/api/v2",
      "/schemas",
      "/subjects",
      "/config",
      "/mode",
      "/compatibility",
      "/health",
      "",
      "/exporters",
      "/contexts",
      "/dek-registry",
    ),
    rest: fc.array(hostileSegment, { maxLength: 4 }),
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
  })
  .map(({ prefix, rest, method }) => ({
    route: "stray",
    method,
    target: `${prefix}/${rest.map((s) => s.text).join("/")}`,
    headers: [],
    body: null,
    raw: rest.some((s) => s.raw),
    malformed: rest.some((s) => s.raw && /[^\x21-\x7e]/.test(s.text)),
    mutating: method !== "GET",
  }));

/** A request of any kind, every route about equally likely. */
export function fuzzRequest(
  routes: RouteSpec[],
  components: JsonSchema,
  fixtures: FuzzFixtures,
): fc.Arbitrary<FuzzRequest> {
  // A global reset (DELETE /config, DELETE /mode) succeeds whatever it is sent, and an accepted write
  // keeps its batch from the partial-write check: those get a quarter of the others' share.
  const weightOf = (route: RouteSpec) =>
    route.method === "DELETE" && route.pathParams.length === 0 && route.api !== "native" ? 1 : 4;
  return fc.oneof(
    {
      arbitrary: fc.oneof(
        ...routes.map((route) => ({
          arbitrary: requestFor(route, components, fixtures),
          weight: weightOf(route),
        })),
      ),
      weight: 30,
    },
    { arbitrary: fc.oneof(...routes.map((route) => rawRequestFor(route, fixtures))), weight: 1 },
    { arbitrary: strayRequest, weight: 1 },
  );
}

/** A short description of a request for failure messages. */
export function describeRequest(request: FuzzRequest): string {
  const target =
    request.target.length > 300
      ? `${request.target.slice(0, 300)}… (${request.target.length} chars)`
      : request.target;
  const body =
    request.body === null
      ? ""
      : ` body ${request.body.length} bytes: ${JSON.stringify(new TextDecoder().decode(request.body.subarray(0, 300)))}`;
  const headers = request.headers
    .map(([n, v]) => `${n}: ${v.length > 80 ? `${v.slice(0, 80)}… (${v.length})` : v}`)
    .join("; ");
  return `${request.raw ? "[raw] " : ""}${request.method} ${JSON.stringify(target)} (${request.route})${headers ? ` headers {${headers}}` : ""}${body}`;
}
