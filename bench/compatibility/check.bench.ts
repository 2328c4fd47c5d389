/**
 * Compatibility check bench: a 200-property JSON Schema, a 200-field Avro
 * record and a 200-field Protobuf message, each checked as the 51st version
 * of a subject against its 50 earlier versions at BACKWARD_TRANSITIVE (the
 * target's workload) and at FULL_TRANSITIVE (both directions: the most work
 * a register can ask for).
 *
 * Two figures per type, measured in the same run:
 *   cold  every schema parsed and compared, as the first register after a
 *         start (the engine's prepared-form cache empty);
 *   warm  the 50 versions prepared already (kept by content hash, as the
 *         registry's engine keeps them), only the candidate parsed: a
 *         register on a running registry.
 * The baseline line is the parse alone of the 51 documents (JSON.parse of
 * their text, or protobufjs' parse of the .proto), so the ratio says what
 * the comparison adds to reading the schemas at all. Target: cold under 50 ms.
 *
 * Run: ./node_modules/.bin/bun bench/compatibility/check.bench.ts
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import { parse } from "protobufjs";
import { CompatibilityEngine, type PreparedCache } from "../../src/domain/compatibility/index.ts";
import { RULES_BY_TYPE } from "../../src/domain/compatibility/rules.ts";
import type { SchemaType } from "../../src/domain/types.ts";

const FIELDS = 200;
const VERSIONS = 50;

/** Version v of each type: 200 fields, version v adding an optional field and documenting another. */
function jsonSchema(v: number): unknown {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < FIELDS; i++) {
    properties[`field_${i}`] =
      i % 3 === 0
        ? { type: "string", maxLength: 200, description: `field ${i} (v${v})` }
        : i % 3 === 1
          ? { type: "integer", minimum: 0 }
          : { type: "array", items: { type: "string" } };
  }
  for (let i = 0; i < v; i++) properties[`added_${i}`] = { type: "string" };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties,
    required: ["field_0", "field_1"],
  };
}

function avroSchema(v: number): unknown {
  const fields: unknown[] = [];
  for (let i = 0; i < FIELDS; i++) {
    fields.push({
      name: `field_${i}`,
      type: i % 3 === 0 ? "string" : i % 3 === 1 ? "long" : { type: "array", items: "string" },
      doc: `field ${i} (v${v})`,
    });
  }
  for (let i = 0; i < v; i++) fields.push({ name: `added_${i}`, type: ["null", "string"], default: null });
  return { type: "record", name: "Event", namespace: "com.acme", fields };
}

function protobufSchema(v: number): string {
  const lines = ['syntax = "proto3";', "package acme.v1;", "message Event {"];
  for (let i = 0; i < FIELDS; i++) {
    const type = i % 3 === 0 ? "string" : i % 3 === 1 ? "int64" : "repeated string";
    lines.push(`  // field ${i} (v${v})`, `  ${type} field_${i} = ${i + 1};`);
  }
  for (let i = 0; i < v; i++) lines.push(`  optional string added_${i} = ${FIELDS + i + 1};`);
  lines.push("}");
  return lines.join("\n");
}

const MAKERS: Record<SchemaType, (v: number) => unknown> = {
  json: jsonSchema,
  avro: avroSchema,
  protobuf: protobufSchema,
};

function workload(type: SchemaType) {
  const history = Array.from({ length: VERSIONS }, (_, i) => VERSIONS - 1 - i).map((v) => ({
    version: `1.${v}.0`,
    cacheKey: `${type}-${v}`,
    document: { content: MAKERS[type](v) },
  }));
  const candidate = { document: { content: MAKERS[type](VERSIONS) }, cacheKey: `${type}-${VERSIONS}` };
  const texts = [...history.map((h) => h.document.content), candidate.document.content].map((c) =>
    typeof c === "string" ? c : JSON.stringify(c),
  );
  return { history, candidate, texts };
}

function parseAll(type: SchemaType, texts: string[]): void {
  for (const text of texts) do_not_optimize(type === "protobuf" ? parse(text) : JSON.parse(text));
}

/** The engine with the rules already loaded (createCompatibilityEngine's load them on its first `ready()`). */
const createCompatibilityEngine = (options: { prepared?: PreparedCache } = {}) =>
  new CompatibilityEngine({ rules: RULES_BY_TYPE, ...options });

const results: string[] = [];
for (const type of ["json", "avro", "protobuf"] as const) {
  const { history, candidate, texts } = workload(type);
  // Sanity: the workload is compatible, so every comparison runs to the end.
  const verdict = createCompatibilityEngine().check(type, "FULL_TRANSITIVE", candidate, history);
  if (!verdict.compatible)
    throw new Error(`${type} workload is not compatible: ${verdict.violations[0]?.message}`);

  const warmCache = new Map<string, unknown>();
  const warm = createCompatibilityEngine({
    prepared: { get: (k) => warmCache.get(k), set: (k, v) => warmCache.set(k, v) },
  });
  warm.check(type, "FULL_TRANSITIVE", candidate, history);
  const uncachedCandidate = { document: candidate.document };

  summary(() => {
    bench(`${type}: parse 51 schemas (baseline)`, () => parseAll(type, texts));
    bench(`${type}: check cold (parse + compare, both ways, 50 versions)`, () =>
      do_not_optimize(createCompatibilityEngine().check(type, "FULL_TRANSITIVE", candidate, history)),
    );
    bench(`${type}: check warm (versions prepared)`, () =>
      do_not_optimize(warm.check(type, "FULL_TRANSITIVE", uncachedCandidate, history)),
    );
  });

  // Plain timings of the cold check, for the target line (median of 15).
  for (const level of ["BACKWARD_TRANSITIVE", "FULL_TRANSITIVE"] as const) {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      createCompatibilityEngine().check(type, level, candidate, history);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    results.push(`${type.padEnd(9)} ${level.padEnd(20)} cold, median of 15: ${times[7]!.toFixed(1)} ms`);
  }
}

await run();
console.log(`\n${FIELDS} fields, ${VERSIONS} versions (target: BACKWARD_TRANSITIVE under 50 ms):`);
for (const line of results) console.log(`  ${line}`);
