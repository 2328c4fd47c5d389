/**
 * Documents against a JSON Schema, with ajv: the Ajv class of the schema's
 * dialect (`$schema`, 2020-12 when absent), all errors collected, formats
 * checked, unknown keywords ignored (stored schemas may carry annotations
 * ajv does not know).
 *
 * Each compile gets a fresh Ajv instance. A shared instance keeps every
 * compiled schema in its code scope for good (`removeSchema` clears its
 * caches but not that scope), so memory would grow with every schema ever
 * validated against; a fresh one is dropped with the validator. It costs
 * about 0.05–0.1 ms on top of a compile (0.25 ms and up), and only at
 * compile time: the caller caches validators.
 *
 * What keeps a crafted document from holding the server:
 * - `pattern` and `patternProperties` run on `safe-regexp.ts` (linear time).
 * - Formats come from ajv-formats, whose expressions are fixed. Measured with
 *   adversarial strings of 5,000 to 40,000 characters, every one runs in
 *   linear time except `url`, quadratic (1.4 s at 40,000 characters), so `url`
 *   values longer than MAX_URL_LENGTH fail the format without being matched.
 *   Lengths are not otherwise bounded: linear work is bounded by the size of
 *   the request body, which the HTTP layer limits. (The `regex` format only
 *   compiles the document's string, never runs it.)
 * - `uniqueItems` is replaced: ajv compares items pairwise unless their type
 *   is declared scalar (measured: 1.4 s for 5,000 distinct objects, 6 s for
 *   10,000); this compares canonical JSON texts in a Map, linear in the
 *   array's size (20,000 objects: about 40 ms).
 * - Recursion follows the document only through `$ref`, `$dynamicRef`,
 *   `$recursiveRef` and (in the replaced `uniqueItems`) whole items; a schema
 *   without them descends only as deep as it is written. `descendsWithDocument`
 *   tells `index.ts` whether the document's depth must be checked first.
 *
 * References are added to the instance under their name, so `"$ref": "<name>"`
 * resolves to them (and under their own `$id`, if they have one). When the
 * root has an absolute `$id`, a relative `$ref` resolves against it, so each
 * reference is also added under its name resolved the same way. They are
 * compiled in the root schema's dialect.
 */
import type {
  AnySchema,
  ErrorObject,
  FuncKeywordDefinition,
  Options,
  SchemaValidateFunction,
  ValidateFunction,
} from "ajv";
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019.js";
import Ajv2020 from "ajv/dist/2020.js";
import draft06MetaSchema from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import { fullFormats } from "ajv-formats/dist/formats.js";
import { canonicalJson } from "../canonical.ts";
import type { SchemaDocument } from "../compatibility/types.ts";
import { invalidSchema, messageOf } from "../validation/invalid-schema.ts";
import { JSON_SCHEMA_DIALECTS, jsonSchemaDialect } from "../validation/json-schema.ts";
import type { DataError, TypeChecker } from "./index.ts";
import { RefusedPatternError, safeRegExp } from "./safe-regexp.ts";

/** Longest string the `url` format is checked on (the longest URL common browsers accept); longer ones fail it. */
export const MAX_URL_LENGTH = 2083;

/** Messages quote values (enum lists, constants); past this they are cut. */
const MAX_MESSAGE_LENGTH = 300;

const urlExpression = fullFormats.url as RegExp;

const FORMATS = {
  ...fullFormats,
  url: (value: string) => value.length <= MAX_URL_LENGTH && urlExpression.test(value),
};

/**
 * `uniqueItems` in linear time: each item's canonical JSON (sorted keys, so
 * `{"a":1,"b":2}` equals `{"b":2,"a":1}` as JSON Schema says) goes into a Map.
 * Reports the first repeat as ajv does: `i` the later index, `j` the earlier.
 */
const uniqueItems: SchemaValidateFunction = (schema: unknown, data: unknown): boolean => {
  if (schema !== true || !Array.isArray(data)) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const item: unknown = data[i];
    const key =
      typeof item === "object" && item !== null ? canonicalJson(item) : (JSON.stringify(item) ?? "undefined");
    const j = seen.get(key);
    if (j !== undefined) {
      uniqueItems.errors = [
        {
          keyword: "uniqueItems",
          message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
          params: { i, j },
        },
      ];
      return false;
    }
    seen.set(key, i);
  }
  return true;
};

const UNIQUE_ITEMS: FuncKeywordDefinition = {
  keyword: "uniqueItems",
  type: "array",
  schemaType: "boolean",
  validate: uniqueItems,
  errors: true,
};

const AJV_CLASSES = { "2020": Ajv2020, "2019": Ajv2019, "07": Ajv } as const;

/** Keys after which ajv's recursion follows the document rather than the schema's own shape. */
const DESCENDING_KEYWORDS = new Set(["$ref", "$dynamicRef", "$recursiveRef", "uniqueItems"]);

export function compileJsonSchemaChecker(schema: SchemaDocument, maxErrors: number): TypeChecker {
  const content = schema.content;
  if (
    typeof content !== "boolean" &&
    (typeof content !== "object" || content === null || Array.isArray(content))
  ) {
    throw invalidSchema("json", "a JSON Schema must be an object or a boolean", { path: "" });
  }
  const dialect = jsonSchemaDialect(content);
  const { engine } = JSON_SCHEMA_DIALECTS[dialect];
  const options: Options = {
    // Unknown keywords and formats are annotations, not errors (see header).
    strict: false,
    logger: false,
    allErrors: true,
    // The registry checked the schema against its meta-schema on register;
    // doing it again would compile the meta-schema in every fresh instance
    // (tens of milliseconds).
    validateSchema: false,
    formats: FORMATS,
    code: { regExp: safeRegExp },
    // Defaults, coercion and removal stay off: validating must not change the document.
  };
  const ajv = new AJV_CLASSES[engine](options);
  if (dialect === "draft-06") ajv.addMetaSchema(draft06MetaSchema);
  ajv.removeKeyword("uniqueItems");
  ajv.addKeyword(UNIQUE_ITEMS);

  let validate: ValidateFunction;
  try {
    const base = absoluteId(content);
    for (const reference of schema.references ?? []) {
      ajv.addSchema(reference.content as AnySchema, reference.name);
      const resolved = base && URL.parse(reference.name, base)?.href;
      if (resolved && resolved !== reference.name) ajv.addSchema(reference.content as AnySchema, resolved);
    }
    validate = ajv.compile(content as AnySchema);
  } catch (error) {
    if (error instanceof RefusedPatternError) {
      throw invalidSchema("json", error.message, { pattern: error.pattern }, error);
    }
    throw invalidSchema("json", `cannot be compiled: ${messageOf(error)}`, { dialect }, error);
  }

  return {
    descendsWithDocument: [content, ...(schema.references ?? []).map((r) => r.content)].some(
      hasDescendingKeyword,
    ),
    check(document: unknown): DataError[] | undefined {
      if (validate(document)) return undefined;
      const raw = validate.errors ?? [];
      const errors: DataError[] = [];
      for (let i = 0; i < raw.length && errors.length < maxErrors; i++) {
        const error = raw[i]!;
        errors.push({ path: error.instancePath, message: describe(error) });
      }
      return errors;
    },
  };
}

/** The root's `$id` when it is an absolute URI, against which relative `$ref`s resolve. */
function absoluteId(content: unknown): string | undefined {
  const id = typeof content === "object" && content !== null ? (content as { $id?: unknown }).$id : undefined;
  return typeof id === "string" && URL.canParse(id) ? id : undefined;
}

/** Whether any of DESCENDING_KEYWORDS appears as a key anywhere in `schema` (iterative: schemas can be deep). */
function hasDescendingKeyword(schema: unknown): boolean {
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== "object" || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
      continue;
    }
    for (const key in value) {
      if (DESCENDING_KEYWORDS.has(key)) return true;
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return false;
}

/** ajv's message, completed with what its params name (the property, the allowed values). */
function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  let message: string;
  switch (error.keyword) {
    case "additionalProperties":
      message = `must NOT have additional property '${params.additionalProperty}'`;
      break;
    case "unevaluatedProperties":
      message = `must NOT have unevaluated property '${params.unevaluatedProperty}'`;
      break;
    case "enum":
      message = `must be one of ${(params.allowedValues as unknown[]).map(json).join(", ")}`;
      break;
    case "const":
      message = `must be equal to ${json(params.allowedValue)}`;
      break;
    case "propertyNames":
      message = `property name '${params.propertyName}' is invalid`;
      break;
    case "false schema":
      message = "is not allowed (the schema here is false)";
      break;
    default:
      message = error.message ?? `must pass "${error.keyword}"`;
  }
  // Errors of a `propertyNames` subschema are about a key, not a value.
  if (error.propertyName !== undefined && error.keyword !== "propertyNames") {
    message = `property name '${error.propertyName}' ${message}`;
  }
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
