/**
 * A stand-in for Upstash's REST API in front of the machine's Redis, so the
 * Upstash driver runs against a real Redis in tests (no local Upstash server
 * exists). Speaks what @upstash/redis uses: POST `/` with one command as a
 * JSON array, answered `{ "result": ... }`; POST `/pipeline` with an array of
 * commands, answered `[{ "result" } | { "error" }]`; `Authorization: Bearer
 * <token>` is checked; with `Upstash-Encoding: base64` every string result
 * except "OK" is base64-encoded, as Upstash does. Commands run through
 * ioredis's buffer API, so values cross the bridge byte for byte.
 */
import { Redis } from "ioredis";

export interface UpstashBridge {
  readonly url: string;
  readonly token: string;
  /** Requests served, for assertions that batch operations are one request. */
  readonly requests: { single: number; pipeline: number };
  stop(): Promise<void>;
}

type Reply = Buffer | number | null | Reply[];

function encodeReply(reply: Reply, base64: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  const text = reply.toString("utf8");
  if (!base64 || text === "OK") return text;
  return reply.toString("base64");
}

function isCommand(value: unknown): value is (string | number)[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => typeof part === "string" || typeof part === "number")
  );
}

export async function startUpstashBridge(
  redisUrl: string,
  token = crypto.randomUUID(),
): Promise<UpstashBridge> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const requests = { single: 0, pipeline: 0 };

  const run = async (command: (string | number)[]): Promise<Reply> => {
    const [name, ...args] = command.map(String);
    return (await redis.callBuffer(name!, ...args)) as Reply;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
      if (request.headers.get("authorization") !== `Bearer ${token}`) {
        return Response.json({ error: "Unauthorized" }, { status: 401 });
      }
      const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return Response.json({ error: "ERR failed to parse command" }, { status: 400 });
      }
      const path = new URL(request.url).pathname;
      if (path === "/pipeline" || path === "/multi-exec") {
        requests.pipeline++;
        if (!Array.isArray(body) || !body.every(isCommand)) {
          return Response.json({ error: "ERR pipeline body must be an array of commands" }, { status: 400 });
        }
        const settled = await Promise.allSettled(body.map(run));
        return Response.json(
          settled.map((outcome) =>
            outcome.status === "fulfilled"
              ? { result: encodeReply(outcome.value, base64) }
              : { error: String((outcome.reason as Error).message) },
          ),
        );
      }
      if (path !== "/") return Response.json({ error: "not found" }, { status: 404 });
      requests.single++;
      if (!isCommand(body))
        return Response.json({ error: "ERR command must be a non-empty array" }, { status: 400 });
      try {
        return Response.json({ result: encodeReply(await run(body), base64) });
      } catch (error) {
        return Response.json({ error: String((error as Error).message) }, { status: 400 });
      }
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    token,
    requests,
    async stop() {
      await server.stop(true);
      redis.disconnect();
    },
  };
}
