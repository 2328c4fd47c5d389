/**
 * JSON Schema content: valid when it passes the meta-schema of its dialect
 * (from `$schema`, 2020-12 when absent) and the structural checks of
 * `json-schema-structure.ts`.
 *
 * Supported dialects are those Ajv ships meta-schemas for: 2020-12, 2019-09,
 * draft-07 and draft-06. draft-04 needs the `ajv-draft-04` package, which the
 * project does not carry, so a draft-04 `$schema` is rejected with the list of
 * supported dialects rather than checked against the wrong meta-schema.
 */

import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019.js";
import Ajv2020 from "ajv/dist/2020.js";
import draft06MetaSchema from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import addFormats from "ajv-formats";
import type { SchemaDocument } from "../compatibility/types.ts";
import { invalidSchema } from "./invalid-schema.ts";
import {
  checkRef,
  findStructuralProblem,
  type JsonSchemaDialect,
  type StructuralProblem,
} from "./json-schema-structure.ts";

interface DialectInfo {
  /** The meta-schema URI, as written in `$schema` and as Ajv registers it. */
  uri: string;
  /** Which Ajv instance holds the meta-schema. */
  engine: "2020" | "2019" | "07";
}

export const JSON_SCHEMA_DIALECTS: Readonly<Record<JsonSchemaDialect, DialectInfo>> = {
  "2020-12": { uri: "https://json-schema.org/draft/2020-12/schema", engine: "2020" },
  "2019-09": { uri: "https://json-schema.org/draft/2019-09/schema", engine: "2019" },
  "draft-07": { uri: "http://json-schema.org/draft-07/schema#", engine: "07" },
  "draft-06": { uri: "http://json-schema.org/draft-06/schema#", engine: "07" },
};

export const DEFAULT_JSON_SCHEMA_DIALECT: JsonSchemaDialect = "2020-12";

// `$schema` values are matched without their scheme and empty fragment, so
// "https://json-schema.org/draft-07/schema" finds draft-07 as users expect.
const DIALECT_BY_KEY = new Map<string, JsonSchemaDialect>(
  (Object.entries(JSON_SCHEMA_DIALECTS) as [JsonSchemaDialect, DialectInfo][]).map(([name, info]) => [
    dialectKey(info.uri),
    name,
  ]),
);

function dialectKey(uri: string): string {
  return uri.replace(/^https?:\/\//i, "").replace(/#$/, "");
}

const SUPPORTED_LIST = (Object.entries(JSON_SCHEMA_DIALECTS) as [JsonSchemaDialect, DialectInfo][])
  .map(([name, info]) => `${name} (${info.uri})`)
  .join(", ");

// Creating an Ajv instance and compiling a meta-schema takes tens of
// milliseconds (about 150 ms for 2020-12), so each is made once, on first use.
// These instances only ever run meta-schemas: user schemas are never compiled
// into them, so they do not grow with the number of schemas registered.
const engines = new Map<DialectInfo["engine"], Ajv>();
const metaValidators = new Map<JsonSchemaDialect, ValidateFunction>();

function engine(kind: DialectInfo["engine"]): Ajv {
  let ajv = engines.get(kind);
  if (ajv) return ajv;
  // strict: false because meta-schemas and user schemas may carry keywords Ajv
  // does not know (annotations are legal JSON Schema); logger: false keeps the
  // warnings about them out of the server's output.
  const options = { strict: false, logger: false as const, allErrors: false };
  if (kind === "2020") ajv = new Ajv2020(options);
  else if (kind === "2019") ajv = new Ajv2019(options);
  else {
    ajv = new Ajv(options);
    ajv.addMetaSchema(draft06MetaSchema);
  }
  addFormats(ajv);
  engines.set(kind, ajv);
  return ajv;
}

function metaValidator(dialect: JsonSchemaDialect): ValidateFunction {
  let validate = metaValidators.get(dialect);
  if (validate) return validate;
  const info = JSON_SCHEMA_DIALECTS[dialect];
  validate = engine(info.engine).getSchema(info.uri);
  if (!validate) throw new Error(`meta-schema ${info.uri} is not registered with Ajv`);
  metaValidators.set(dialect, validate);
  return validate;
}

/** The dialect `content` declares, or an invalid_schema error naming the supported ones. */
export function jsonSchemaDialect(content: unknown): JsonSchemaDialect {
  if (typeof content !== "object" || content === null || !("$schema" in content)) {
    return DEFAULT_JSON_SCHEMA_DIALECT;
  }
  const declared = (content as { $schema: unknown }).$schema;
  if (typeof declared !== "string") {
    throw invalidSchema("json", "$schema must be a string (the URI of a JSON Schema meta-schema)", {
      path: "/$schema",
    });
  }
  const dialect = DIALECT_BY_KEY.get(dialectKey(declared));
  if (!dialect) {
    throw invalidSchema(
      "json",
      `unsupported $schema ${JSON.stringify(declared)}; supported: ${SUPPORTED_LIST}`,
      {
        path: "/$schema",
        supported: Object.values(JSON_SCHEMA_DIALECTS).map((info) => info.uri),
      },
    );
  }
  return dialect;
}

/**
 * `references`: schemas the content may `$ref` by their reference name
 * (`common.json`, or `common.json#/$defs/Address`); a fragment into one must
 * resolve in it.
 */
export function validateJsonSchema(content: unknown, references: SchemaDocument["references"] = []): void {
  if (
    typeof content !== "boolean" &&
    (typeof content !== "object" || content === null || Array.isArray(content))
  ) {
    const kind = content === null ? "null" : Array.isArray(content) ? "array" : typeof content;
    throw invalidSchema("json", `a JSON Schema must be an object or a boolean (got ${kind})`, { path: "" });
  }
  const dialect = jsonSchemaDialect(content);
  const validate = metaValidator(dialect);
  if (!validate(content)) {
    const first = validate.errors?.[0];
    const path = first?.instancePath ?? "";
    throw invalidSchema("json", first ? describe(first) : "does not match its meta-schema", {
      dialect,
      path,
      keyword: first?.keyword,
    });
  }
  const problem = findStructuralProblem(content, dialect) ?? findReferenceProblem(content, references ?? []);
  if (problem)
    throw invalidSchema("json", `${problem.path} ${problem.message}`, { dialect, path: problem.path });
}

/** A `$ref` into a reference whose fragment points nowhere in the referenced schema. Iterative. */
function findReferenceProblem(
  content: unknown,
  references: NonNullable<SchemaDocument["references"]>,
): StructuralProblem | null {
  if (references.length === 0) return null;
  const byName = new Map(references.map((r) => [r.name, r.content]));
  const stack: [unknown, string][] = [[content, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (!Array.isArray(node)) {
      const ref = (node as Record<string, unknown>).$ref;
      if (typeof ref === "string" && !ref.startsWith("#")) {
        const hash = ref.indexOf("#");
        const name = hash === -1 ? ref : ref.slice(0, hash);
        if (byName.has(name) && hash !== -1) {
          const problem = checkRef(ref.slice(hash), `${path}/$ref`, byName.get(name));
          if (problem) return { path: problem.path, message: `(in reference ${name}) ${problem.message}` };
        }
      }
    }
    for (const [key, child] of Object.entries(node)) {
      if (typeof child === "object" && child !== null) {
        stack.push([child, `${path}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`]);
      }
    }
  }
  return null;
}

function describe(error: ErrorObject): string {
  let text = `${error.instancePath || "(root)"} ${error.message ?? "is invalid"}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "enum" && Array.isArray(params.allowedValues)) {
    text += `: ${params.allowedValues.map((value) => JSON.stringify(value)).join(", ")}`;
  } else if (error.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    text += `: ${JSON.stringify(params.additionalProperty)}`;
  }
  return text;
}
