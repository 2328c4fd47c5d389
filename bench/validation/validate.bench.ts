/**
 * Data validation bench: a 2 KB LLM response (a chat completion with tool
 * calls and usage) validated against
 *
 *   (a) a bare ajv validator compiled once with ajv's default options (and
 *       ajv-formats), the baseline;
 *   (b) our compiled validator (`compileDataValidator`: all errors, the
 *       linear-time pattern engine, the replaced uniqueItems, formats),
 *
 * for three schemas: without patterns; with the patterns such a schema
 * usually has (`^call_[A-Za-z0-9]+$` and the like, which safe-regexp.ts runs
 * on the native engine because they are provably linear there); and the same
 * patterns wrapped in groups, which sends every one of them to RE2 (the cost
 * when a schema's patterns fall outside the native-safe shapes). A fourth
 * line shows (b) on the pattern-free schema behind a `$ref`, where the
 * document's depth is walked first.
 *
 * mitata measures each; the ratios printed are throughput of (b) over (a),
 * from alternating rounds (median), which load from other processes skews
 * less than two separate mitata runs. Target: at least 0.9x.
 *
 * Run: ./node_modules/.bin/bun bench/validation/validate.bench.ts
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { bench, do_not_optimize, run, summary } from "mitata";
import { compileDataValidator } from "../../src/domain/data-validation/index.ts";
import { completion, completionSchema } from "../../test/support/chat-completion.ts";

function bareAjv(schema: Record<string, unknown>) {
  // Default options; the logger only silences strict mode's notes on union types.
  const ajv = new Ajv2020({ logger: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const size = JSON.stringify(completion).length;
const cases = (["none", "native", "re2"] as const).map((patterns) => {
  const schema = completionSchema(patterns);
  const baseline = bareAjv(schema);
  const candidate = compileDataValidator("json", { content: schema });
  if (!baseline(completion) || !candidate.validate(completion).valid) {
    throw new Error(`the document must be valid against the ${patterns} schema`);
  }
  return {
    label: { none: "no patterns", native: "patterns (native-safe)", re2: "patterns (all on RE2)" }[patterns],
    baseline: () => baseline(completion),
    candidate: () => candidate.validate(completion),
  };
});
const referenced = compileDataValidator(
  "json",
  {
    content: { $ref: "completion" },
    references: [{ name: "completion", content: completionSchema("none") }],
  },
  {},
);
const walked = () => referenced.validate(completion);

console.log(`document: ${size} bytes of JSON\n`);
for (const { label, baseline, candidate } of cases) {
  summary(() => {
    bench(`(a) bare ajv, ${label}`, () => do_not_optimize(baseline()));
    bench(`(b) compileDataValidator, ${label}`, () => do_not_optimize(candidate()));
  });
}
bench("(b) compileDataValidator, no patterns, behind a $ref (depth walk)", () => do_not_optimize(walked()));
await run();

/**
 * Throughput of `candidate` relative to `baseline`, and the time per call of
 * each, as medians over alternating rounds.
 */
function interleaved(baseline: () => unknown, candidate: () => unknown, rounds = 31, perRound = 20_000) {
  const time = (op: () => unknown) => {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) do_not_optimize(op());
    return performance.now() - t0;
  };
  const ratios: number[] = [];
  const baselineMs: number[] = [];
  const candidateMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0 ? baseline : candidate;
    const a = time(first);
    const b = time(first === baseline ? candidate : baseline);
    const [bt, ct] = first === baseline ? [a, b] : [b, a];
    baselineMs.push(bt);
    candidateMs.push(ct);
    ratios.push(bt / ct);
  }
  const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const perCall = (ms: number[]) => `${((median(ms) / perRound) * 1e6).toFixed(0)} ns`;
  return `${median(ratios).toFixed(2)}x   (a) ${perCall(baselineMs)}, (b) ${perCall(candidateMs)}`;
}

console.log("\nthroughput of (b) relative to (a), alternating rounds, medians (target >= 0.9x):");
for (const { label, baseline, candidate } of cases) {
  console.log(`  ${label.padEnd(26)} ${interleaved(baseline, candidate)}`);
}
console.log(`  ${"no patterns, $ref (walk)".padEnd(26)} ${interleaved(cases[0]!.baseline, walked)}`);
