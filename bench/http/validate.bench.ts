/**
 * Data validation over HTTP, beside the registry's fastest read, on one
 * registry process: `POST /api/v1/schemas/{id}/validate` with a 2 KB LLM
 * response (a chat completion with tool calls) against its JSON Schema, and
 * `GET /api/v1/schemas/{id}` answered from L1 (the document and schema of
 * test/support/chat-completion.ts), driven by the same load
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
import { completion, completionSchema } from "../../test/support/chat-completion.ts";
import { createTestDatabase } from "../../test/support/database.ts";
import { drive, WRK } from "./load-driver.ts";

const schema = completionSchema("native");
const document = completion;

const seconds = Number(process.env.DURATION ?? 4);
const rounds = Number(process.env.ROUNDS ?? 3);
const connections = Number(process.env.CONNECTIONS ?? 64);
const database = await createTestDatabase();
const port = await freePort();
const server = Bun.spawn([process.execPath, "src/server.ts"], {
  env: {
    ...process.env,
    DATABASE_URL: database.url,
    PORT: String(port),
    CACHE_WARM_ON_STARTUP: "false",
    AUTH_REQUIRED: "false",
  },
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
