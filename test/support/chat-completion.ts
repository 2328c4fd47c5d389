/**
 * A 2 KB LLM response (a chat completion with tool calls and usage) and the
 * JSON Schema it is checked against, shared by the validation benches (the
 * in-process one and the one over HTTP) and the validation tests. `patterns` chooses the schema's
 * string patterns: none, the usual ones (which the linear-time engine lets
 * the native engine run), or the same wrapped so every one runs on RE2.
 */

export const completion = {
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

export type Patterns = "none" | "native" | "re2";

export function completionSchema(patterns: Patterns): Record<string, unknown> {
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
