/**
 * Data validation over HTTP, beside the registry's fastest read, on one
 * registry process: `POST /api/v1/schemas/{id}/validate` with a 2 KB LLM
 * response (a chat completion with tool calls) against its JSON Schema, and
 * `GET /api/v1/schemas/{id}` answered from L1, driven by the same load
 * generator (wrk when installed, autocannon otherwise) with the same
 * connections, in interleaved rounds. Prints validations/s, reads/s and
 * their ratio.
 *
 *   ./node_modules/.bin/bun bench/http/validate.bench.ts
 *   DURATION=5 ROUNDS=3 CONNECTIONS=64 ./node_modules/.bin/bun bench/http/validate.bench.ts
 *
 * Needs the machine's PostgreSQL (a fresh database, dropped afterwards).
 */
import { writeFileSync } from "node:fs";
import { freePort } from "../../scripts/lib/free-port.ts";
import { createTestDatabase } from "../../test/support/database.ts";

const schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["id", "object", "created", "model", "choices"],
  properties: {
    id: { type: "string", pattern: "^chatcmpl-[A-Za-z0-9]+$" },
    object: { const: "chat.completion" },
    created: { type: "integer", minimum: 0 },
    model: { type: "string", minLength: 1 },
    choices: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["index", "message", "finish_reason"],
        properties: {
          index: { type: "integer", minimum: 0 },
          finish_reason: { enum: ["stop", "length", "tool_calls", "content_filter"] },
          message: {
            type: "object",
            required: ["role"],
            properties: {
              role: { enum: ["assistant"] },
              content: { type: ["string", "null"] },
              tool_calls: {
                type: "array",
                items: {
                  type: "object",
                  required: ["id", "type", "function"],
                  properties: {
                    id: { type: "string", pattern: "^call_[A-Za-z0-9]+$" },
                    type: { const: "function" },
                    function: {
                      type: "object",
                      required: ["name", "arguments"],
                      properties: {
                        name: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$" },
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
      properties: {
        prompt_tokens: { type: "integer", minimum: 0 },
        completion_tokens: { type: "integer", minimum: 0 },
        total_tokens: { type: "integer", minimum: 0 },
      },
    },
  },
};

const document = {
  id: "chatcmpl-9x7Yq2LmN4pQ8rT1vW3zA5bC6dE",
  object: "chat.completion",
  created: 1718035200,
  model: "gpt-4o-2024-08-06",
  choices: Array.from({ length: 8 }, (_, index) => ({
    index,
    finish_reason: index === 0 ? "tool_calls" : "stop",
    message: {
      role: "assistant",
      content:
        index === 0
          ? null
          : "The order ships from the Rotterdam warehouse on Tuesday; tracking follows by email once the carrier scans it.",
      tool_calls:
        index === 0
          ? [
              {
                id: "call_Q2w3E4r5T6y7U8i9",
                type: "function",
                function: {
                  name: "lookup_order",
                  arguments: '{"order_id":"A-10442","include":["items","shipping"]}',
                },
              },
              {
                id: "call_Z1x2C3v4B5n6M7",
                type: "function",
                function: { name: "estimate_delivery", arguments: '{"warehouse":"RTM","postcode":"1012AB"}' },
              },
            ]
          : [],
    },
  })),
  usage: { prompt_tokens: 412, completion_tokens: 161, total_tokens: 573 },
};

const WRK = ["/usr/bin/wrk", Bun.which("wrk")].find((path) => path && Bun.file(path).size > 0) ?? null;

async function drive(
  url: string,
  seconds: number,
  connections: number,
  post?: { body: string; luaFile: string },
): Promise<number> {
  if (WRK) {
    const args = [
      WRK,
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      ...(post ? ["-s", post.luaFile] : []),
      url,
    ];
    const out = await new Response(Bun.spawn(args, { stdout: "pipe" }).stdout).text();
    if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors under load at ${url}:\n${out}`);
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (!rate) throw new Error(`wrk printed no rate:\n${out}`);
    return Number(rate[1]);
  }
  type Autocannon = (options: Record<string, unknown>) => Promise<{
    requests: { average: number };
    non2xx: number;
    errors: number;
  }>;
  const name: string = "autocannon";
  const { default: autocannon } = (await import(name)) as { default: Autocannon };
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(post ? { method: "POST", body: post.body, headers: { "content-type": "application/json" } } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`errors under load at ${url}`);
  return result.requests.average;
}

const seconds = Number(process.env.DURATION ?? 4);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = Number(process.env.CONNECTIONS ?? 64);
const database = await createTestDatabase();
const port = await freePort();
const server = Bun.spawn([process.execPath, "src/server.ts"], {
  env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), CACHE_WARM_ON_STARTUP: "false" },
  stdout: "ignore",
  stderr: "inherit",
});
try {
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const ready = await fetch(`${base}/health/ready`).catch(() => null);
    if (ready?.ok) break;
    if (tries > 200) throw new Error("the registry did not become ready");
    await Bun.sleep(50);
  }
  const created = await fetch(`${base}/api/v1/schemas`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ subject: "bench.validate.ChatCompletion", schema_type: "json", content: schema }),
  });
  const { id } = (await created.json()) as { id: string };
  const body = JSON.stringify(document);
  const check = await (
    await fetch(`${base}/api/v1/schemas/${id}/validate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    })
  ).json();
  if (!(check as { valid: boolean }).valid)
    throw new Error(`the bench document is not valid: ${JSON.stringify(check)}`);
  const luaFile = `/tmp/validate-bench-${process.pid}.lua`;
  writeFileSync(
    luaFile,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
  );

  const reads: number[] = [];
  const validations: number[] = [];
  await drive(`${base}/api/v1/schemas/${id}`, 1, connections); // warm the L1 and the JIT
  for (let r = 0; r < rounds; r++) {
    reads.push(await drive(`${base}/api/v1/schemas/${id}`, seconds, connections));
    validations.push(
      await drive(`${base}/api/v1/schemas/${id}/validate`, seconds, connections, { body, luaFile }),
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    `${WRK ? `wrk -t1 -c${connections}` : `autocannon -c ${connections}`}, ${rounds} rounds of ${seconds} s, document ${body.length} bytes`,
  );
  console.log(
    `  GET /api/v1/schemas/{id} (L1)   ${median(reads).toFixed(0)} req/s  (${reads.map((v) => v.toFixed(0)).join(", ")})`,
  );
  console.log(
    `  POST …/{id}/validate            ${median(validations).toFixed(0)} validations/s  (${validations.map((v) => v.toFixed(0)).join(", ")})`,
  );
  console.log(`  validations / L1 reads: ${(median(validations) / median(reads)).toFixed(2)}x`);
} finally {
  server.kill();
  await server.exited;
  await database.drop();
}
