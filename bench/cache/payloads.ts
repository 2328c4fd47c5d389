/**
 * JSON-Schema-shaped payloads of chosen sizes for the cache benchmarks: a
 * schema record like the registry's (`SchemaRecord` fields) whose `content` is
 * a plausible JSON Schema with nested properties, enums, descriptions and
 * patterns. Deterministic (seeded), so runs compare like with like.
 */

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const WORDS =
  "request response model token prompt completion message role content stream choice usage limit temperature user system tool call function argument index finish reason embedding vector score label".split(
    " ",
  );

function words(next: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(next() * WORDS.length)]!);
  return out.join(" ");
}

function property(next: () => number, depth: number): Record<string, unknown> {
  const kind = Math.floor(next() * 5);
  const description = words(next, 6 + Math.floor(next() * 10));
  if (kind === 0 && depth < 3) {
    return {
      type: "object",
      description,
      properties: properties(next, 3, depth + 1),
      additionalProperties: false,
    };
  }
  if (kind === 1)
    return { type: "string", description, enum: [words(next, 1), words(next, 1), words(next, 1)] };
  if (kind === 2) return { type: "integer", description, minimum: 0, maximum: Math.floor(next() * 100_000) };
  if (kind === 3)
    return { type: "array", description, items: { type: "string", maxLength: 256 }, maxItems: 64 };
  return { type: "string", description, pattern: "^[A-Za-z0-9_.-]{1,64}$", format: "uri" };
}

function properties(next: () => number, n: number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) out[`${words(next, 1)}_${i}`] = property(next, depth);
  return out;
}

/** A JSON Schema document of roughly `targetBytes` when serialized as JSON. */
export function jsonSchemaOfSize(targetBytes: number, seed = 1): Record<string, unknown> {
  const next = rng(seed);
  const schema: Record<string, unknown> = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://schemas.example.com/chat/${seed}.json`,
    title: "CompletionRequest",
    type: "object",
    required: ["model", "messages"],
    properties: {},
  };
  const props = schema.properties as Record<string, unknown>;
  let i = 0;
  while (JSON.stringify(schema).length < targetBytes) {
    props[`${words(next, 1)}_${i++}`] = property(next, 0);
  }
  return schema;
}

/** A schema record (the shape the registry caches) whose JSON form is about `targetBytes`. */
export function schemaRecordOfSize(targetBytes: number, seed = 1): Record<string, unknown> {
  const content = jsonSchemaOfSize(Math.max(200, targetBytes - 600), seed);
  const hex = (seed * 2654435761).toString(16).padStart(8, "0");
  return {
    id: `${hex}-5f0c-4d2a-9b1e-${hex}${hex.slice(0, 4)}`,
    globalId: seed,
    subject: `com.acme.chat.Subject${seed % 997}`,
    version: `1.${seed % 13}.0`,
    schemaType: "json",
    state: "active",
    content,
    contentHash: `sha256:${hex.repeat(8)}`,
    contentSize: JSON.stringify(content).length,
    contentLocation: "inline",
    contentKey: null,
    metadata: {
      description: "Request body of the chat completion call",
      tags: ["llm", "production"],
      owner: "platform-team",
    },
    createdAt: "2026-11-25T10:00:00.000Z",
    updatedAt: "2026-11-25T10:00:00.000Z",
    deletedAt: null,
  };
}
