/**
 * The Deno driver of the entry point (see runtime.ts): `Deno.serve` and the
 * `Deno` namespace for environment, signals and memory.
 *
 * Stopping drains first: on Deno 2.9, `HttpServer.shutdown()` makes the body
 * of every request in flight unreadable at once (denoland/deno#36809: a
 * register whose body is still arriving fails), so the server keeps listening
 * while the requests already in flight finish, answers new ones with 503 and
 * `Connection: close` (draining.ts), and calls `shutdown()` only once nothing
 * is in flight.
 *
 * The types of the `Deno` namespace are not part of this project's type
 * check (it runs with Bun's types), so the little used here is declared here.
 */
import { drainingResponse } from "./draining.ts";
import type { Runtime } from "./runtime.ts";
import { STOP_SIGNALS } from "./runtime.ts";

interface DenoHttpServer {
  readonly addr: { port: number };
  shutdown(): Promise<void>;
}

interface DenoNamespace {
  version: { deno: string };
  args: string[];
  env: { toObject(): Record<string, string> };
  serve(
    options: { port: number; hostname?: string; signal?: AbortSignal; onListen?: () => void },
    handler: (request: Request, info: { remoteAddr?: { hostname?: string } }) => Response | Promise<Response>,
  ): DenoHttpServer;
  addSignalListener(signal: string, handler: () => void): void;
  memoryUsage(): { rss: number; heapUsed: number; heapTotal: number };
  exit(code: number): never;
}

const deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;

export const denoRuntime: Runtime = {
  name: "deno",
  version: deno.version.deno,
  env: () => deno.env.toObject(),
  args: () => [...deno.args],
  serve(options) {
    // Aborting closes the listener and every connection: the forced stop.
    const abort = new AbortController();
    let inFlight = 0;
    let draining = false;
    let idle: (() => void) | null = null;
    const handler = async (
      request: Request,
      info: { remoteAddr?: { hostname?: string } },
    ): Promise<Response> => {
      if (draining) return drainingResponse(request);
      inFlight++;
      try {
        const address = info.remoteAddr?.hostname;
        return await options.fetch(request, address ? { clientAddress: address } : {});
      } finally {
        inFlight--;
        if (inFlight === 0) idle?.();
      }
    };
    const server = deno.serve(
      {
        port: options.port,
        ...(options.hostname ? { hostname: options.hostname } : {}),
        signal: abort.signal,
        // Deno prints its own "Listening on" line otherwise; the entry point logs one in JSON.
        onListen: () => {},
      },
      handler,
    );
    return {
      port: server.addr.port,
      async shutdown() {
        draining = true;
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            idle = resolve;
          });
        }
        await server.shutdown();
      },
      async forceClose() {
        abort.abort();
      },
    };
  },
  onStopSignal(handler) {
    for (const signal of STOP_SIGNALS) deno.addSignalListener(signal, () => handler(signal));
  },
  memory() {
    const usage = deno.memoryUsage();
    return { residentBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal };
  },
  exit: (code) => deno.exit(code),
};
