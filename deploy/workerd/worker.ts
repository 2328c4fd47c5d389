/**
 * The registry as a Worker: the entry module workerd (and Cloudflare) load,
 * bundled by `bun build` (see deploy/workerd/config.capnp for the command).
 * The runtime adapter of an isolate: it starts the same Hono app as Bun and
 * Deno do, through the same composition root, in `edge` mode
 * (src/app/create-registry.ts says what that changes), and ties each
 * request's work to the request:
 *
 * - Configuration is the Worker's bindings (text bindings named as the
 *   environment variables, `env` of cloudflare:workers), read once while the
 *   isolate loads; the registry is built then too (CPU only: it opens no
 *   connection until a request needs one, since an isolate may do no I/O
 *   outside a request), all but the HTTP app and the S3 store, which edge
 *   mode loads on the first request that needs them, so the first read of a
 *   schema waits for neither. Should that fail, the first request builds it.
 * - Each request runs in a request context (src/runtime/request-context.ts):
 *   its PostgreSQL connections (postgres.js over cloudflare:sockets) are its
 *   own and close once it is done, inside `ctx.waitUntil`, after the
 *   background work that came due (access-log flushes, view refreshes:
 *   src/runtime/timers.ts) has run.
 * - Before a request, when due, L1 is checked against the generation stamp
 *   in Upstash (src/app/edge-coherence.ts).
 * - A body larger than the host takes (EDGE_MAX_BODY_BYTES, default 100 MiB,
 *   Cloudflare's smallest plan limit) is answered 413 `payload_too_large` in
 *   the API's envelope before it is read.
 *
 * Code generation: ajv (JSON Schema) and avsc (Avro) compile validators with
 * `new Function`, which an isolate allows only at start-up. With an
 * `unsafeEval` binding named UNSAFE_EVAL (workerd's config here has one), the
 * Worker routes `new Function` through it; without it (Cloudflare's hosted
 * Workers offer none), registering JSON Schema or Avro content fails.
 */

// @ts-expect-error: workerd's own module, resolved by the runtime (the bundle leaves cloudflare:* as imports).
import { env as bindings } from "cloudflare:workers";
// zod's global configuration alone: the app, and zod with it, loads on the first request that needs it.
import { config as configureZod } from "zod/v4/core";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";
import { createRegistry, type Registry } from "../../src/app/create-registry.ts";
import { ERROR_STATUS, errorEnvelope } from "../../src/domain/errors.ts";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../src/domain/request-id.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createRequestContext, runInRequest } from "../../src/runtime/request-context.ts";
import {
  backgroundWorkDue,
  driveBackgroundWorkByRequests,
  runDueBackgroundWork,
} from "../../src/runtime/timers.ts";

interface UnsafeEval {
  newFunction(code: string, name?: string, ...args: string[]): (...args: unknown[]) => unknown;
}

type Env = Record<string, unknown> & { UNSAFE_EVAL?: UnsafeEval };

interface ExecutionContext {
  waitUntil(work: Promise<unknown>): void;
}

/** Cloudflare's request body limit on its smallest plans. */
const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;
/** An isolate has 128 MB: L1 gets a share of it unless CACHE_L1_MAX_BYTES says otherwise. */
const DEFAULT_L1_BYTES = 32 * 1024 * 1024;

driveBackgroundWorkByRequests();
// The Worker validates requests with zod's interpreter: its JIT would compile each schema through
// UNSAFE_EVAL on the first request that meets it, time a cold isolate spends before answering.
configureZod({ jitless: true });

let starting: Promise<Registry> | null = null;
let maxBodyBytes = DEFAULT_MAX_BODY_BYTES;

function settingsOf(env: Env): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string" && value !== "") settings[name] = value;
  }
  settings.CACHE_L1_MAX_BYTES ??= String(DEFAULT_L1_BYTES);
  return settings;
}

/** `new Function` through workerd's UnsafeEval binding: ajv and avsc compile validators while serving. */
function allowCodeGeneration(unsafeEval: UnsafeEval): void {
  const original = globalThis.Function;
  const generated = function anonymous(...args: string[]) {
    const body = args.pop() ?? "";
    const params = args.flatMap((arg) =>
      String(arg)
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name !== ""),
    );
    return unsafeEval.newFunction(body, "anonymous", ...params);
  } as unknown as FunctionConstructor;
  Object.defineProperty(generated, "prototype", { value: original.prototype });
  globalThis.Function = generated;
}

async function start(env: Env): Promise<Registry> {
  const settings = settingsOf(env);
  const config = await loadConfig({ env: settings });
  const logger = createLogger(config.server.logLevel);
  const limit = Number(settings.EDGE_MAX_BODY_BYTES);
  if (Number.isInteger(limit) && limit > 0) maxBodyBytes = limit;
  if (env.UNSAFE_EVAL) allowCodeGeneration(env.UNSAFE_EVAL);
  const staleness = Number(settings.EDGE_STALENESS_MS);
  const registry = await createRegistry(config, {
    logger,
    mode: "edge",
    ...(Number.isInteger(staleness) && staleness > 0 ? { edgeStalenessMs: staleness } : {}),
    // The SDK's browser build (the one bundled for a Worker) reads no environment: credentials come from bindings.
    ...(settings.AWS_ACCESS_KEY_ID && settings.AWS_SECRET_ACCESS_KEY
      ? {
          objectStore: {
            credentials: {
              accessKeyId: settings.AWS_ACCESS_KEY_ID,
              secretAccessKey: settings.AWS_SECRET_ACCESS_KEY,
            },
          },
        }
      : {}),
  });
  logger.info("schema registry Worker started", { storage: registry.storageMode, mode: "edge" });
  return registry;
}

function errorResponse(request: Request, code: keyof typeof ERROR_STATUS, message: string): Response {
  const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
  return new Response(JSON.stringify(errorEnvelope(code, message, {}, requestId)), {
    status: ERROR_STATUS[code],
    headers: { "Content-Type": "application/json", [REQUEST_ID_HEADER]: requestId },
  });
}

// Built while the isolate starts, not on its first request: building the app is CPU only (connections,
// Upstash and S3 calls all wait for a request), so the first request finds it ready. Should anything in it
// be refused outside a request, the first request starts it again.
try {
  starting = start(bindings as Env);
  starting.catch(() => {
    starting = null;
  });
} catch {
  starting = null;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const context = createRequestContext();
    const served = runInRequest(context, async () => {
      const length = Number(request.headers.get("content-length") ?? "0");
      if (length > maxBodyBytes) {
        return errorResponse(
          request,
          "payload_too_large",
          `the body is ${length} bytes; this host takes at most ${maxBodyBytes}`,
        );
      }
      let registry: Registry;
      try {
        starting ??= start(env);
        registry = await starting;
      } catch (error) {
        // The next request tries again; this one says why the registry cannot serve.
        starting = null;
        const reason = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
        console.error(
          JSON.stringify({
            level: "error",
            message: "the registry could not start",
            reason,
            stack: (error as Error)?.stack,
          }),
        );
        return errorResponse(request, "unavailable", `the registry could not start: ${reason}`);
      }
      const check = registry.coherence?.fresh();
      if (check) await check;
      else {
        // A check this request does not wait for (no stamp known yet) must outlive the response.
        const running = registry.coherence?.pending();
        if (running) context.defer(() => running);
      }
      const address = request.headers.get("cf-connecting-ip");
      const response = await registry.fetch(request, address ? { clientAddress: address } : {});
      if (backgroundWorkDue()) context.defer(() => runDueBackgroundWork());
      return response;
    });
    // After the response: the due background work, then this request's connections close. An L1 hit
    // usually leaves neither, and then costs the host no work after its response.
    const settle = () => {
      if (!context.idle()) ctx.waitUntil(runInRequest(context, () => context.finish()));
    };
    return served.then(
      (response) => {
        settle();
        return response;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  },
};
