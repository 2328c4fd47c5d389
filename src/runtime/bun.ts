/**
 * The Bun driver of the entry point (see runtime.ts): `Bun.serve`, whose
 * `stop()` stops listening and resolves once the requests in flight are
 * answered, and the `process` object for environment, signals and memory.
 */
import type { Runtime } from "./runtime.ts";
import { STOP_SIGNALS } from "./runtime.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  env: () => process.env,
  args: () => process.argv.slice(2),
  serve(options) {
    const server = Bun.serve({
      port: options.port,
      ...(options.hostname ? { hostname: options.hostname } : {}),
      fetch: (request, server) => {
        const address = server.requestIP(request)?.address;
        return options.fetch(request, address ? { clientAddress: address } : {});
      },
      maxRequestBodySize: options.maxRequestBodySize,
    });
    return {
      port: server.port ?? options.port,
      shutdown: () => server.stop(false),
      forceClose: () => server.stop(true),
    };
  },
  onStopSignal(handler) {
    for (const signal of STOP_SIGNALS) process.on(signal, () => handler(signal));
  },
  memory() {
    const usage = process.memoryUsage();
    return { residentBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal };
  },
  exit: (code) => process.exit(code),
};
