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

const completion = {
  id: "chatcmpl-9x7Yq2LmN4pQ8rT1vW3zA5bC6dE",
  object: "chat.completion",
  created: 1718035200,
  model: "gpt-4o-2024-08-06",
  system_fingerprint: "fp_44709d6fcb",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content:
          "I'll look up the current weather in the three cities you asked about and convert the temperatures to Celsius. One moment while I call the weather service for Paris, Tokyo and Buenos Aires; afterwards I will summarise the results in a short table with the temperature, the conditions and the chance of rain for each city.",
        refusal: null,
        tool_calls: [
          [
            "Ab12Cd34Ef56Gh78Ij90Kl",
            "get_current_weather",
            { location: "Paris, FR", unit: "celsius", days: 3 },
          ],
          [
            "Mn12Op34Qr56St78Uv90Wx",
            "get_current_weather",
            { location: "Tokyo, JP", unit: "celsius", days: 3 },
          ],
          [
            "Yz12Ab34Cd56Ef78Gh90Ij",
            "get_current_weather",
            { location: "Buenos Aires, AR", unit: "celsius" },
          ],
          [
            "Kl12Mn34Op56Qr78St90Uv",
            "convert_units",
            { from: "fahrenheit", to: "celsius", values: [68.5, 75.2] },
          ],
          [
            "Qr12St34Uv56Wx78Yz90Ab",
            "get_forecast",
            { location: "Oslo, NO", unit: "celsius", hourly: false },
          ],
          [
            "Cd12Ef34Gh56Ij78Kl90Mn",
            "get_air_quality",
            { location: "Nairobi, KE", pollutants: ["pm25", "o3"] },
          ],
        ].map(([id, name, args]) => ({
          id: `call_${id}`,
          type: "function",
          function: { name, arguments: JSON.stringify(args) },
        })),
      },
      logprobs: null,
      finish_reason: "tool_calls",
    },
  ],
  usage: {
    prompt_tokens: 1184,
    completion_tokens: 213,
    total_tokens: 1397,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: "default",
};

type Patterns = "none" | "native" | "re2";

function completionSchema(patterns: Patterns): Record<string, unknown> {
  const p = (pattern: string) =>
    patterns === "none" ? {} : { pattern: patterns === "re2" ? `^(?:${pattern.slice(1, -1)})$` : pattern };
  const tokens = { type: "integer", minimum: 0 };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["id", "object", "created", "model", "choices"],
    additionalProperties: false,
    properties: {
      id: { type: "string", ...p("^chatcmpl-[A-Za-z0-9]+$") },
      object: { const: "chat.completion" },
      created: { type: "integer", minimum: 0 },
      model: { type: "string", minLength: 1, ...p("^[a-z0-9][a-z0-9.-]*$") },
      system_fingerprint: { type: ["string", "null"], ...p("^fp_[0-9a-f]+$") },
      service_tier: { enum: ["default", "auto", "flex", "scale", null] },
      choices: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          required: ["index", "message", "finish_reason"],
          additionalProperties: false,
          properties: {
            index: { type: "integer", minimum: 0 },
            logprobs: { type: ["object", "null"] },
            finish_reason: { enum: ["stop", "length", "tool_calls", "content_filter", "function_call"] },
            message: {
              type: "object",
              required: ["role"],
              additionalProperties: false,
              properties: {
                role: { const: "assistant" },
                content: { type: ["string", "null"], maxLength: 100_000 },
                refusal: { type: ["string", "null"] },
                tool_calls: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["id", "type", "function"],
                    additionalProperties: false,
                    properties: {
                      id: { type: "string", ...p("^call_[A-Za-z0-9]+$") },
                      type: { const: "function" },
                      function: {
                        type: "object",
                        required: ["name", "arguments"],
                        additionalProperties: false,
                        properties: {
                          name: { type: "string", ...p("^[a-zA-Z0-9_-]{1,64}$") },
                          arguments: { type: "string" },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
      usage: {
        type: "object",
        required: ["prompt_tokens", "completion_tokens", "total_tokens"],
        properties: {
          prompt_tokens: tokens,
          completion_tokens: tokens,
          total_tokens: tokens,
          prompt_tokens_details: { type: "object", additionalProperties: tokens },
          completion_tokens_details: { type: "object", additionalProperties: tokens },
        },
      },
    },
  };
}

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
