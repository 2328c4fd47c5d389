/**
 * What the entry point needs from the runtime it runs on, and nothing more:
 * its environment and arguments, an HTTP server it can stop gracefully,
 * stop signals, memory figures and exit. Bun and Deno each implement it in
 * their own driver module (bun.ts, deno.ts), the only modules under src/
 * besides a few storage drivers that touch a runtime's own API;
 * `loadRuntime()` picks one by feature detection.
 */

/** What the runtime driver reports about the process; absent where a runtime cannot tell. */
export interface ProcessFigures {
  residentBytes?: number;
  heapUsedBytes?: number;
  heapTotalBytes?: number;
}

export type StopSignal = "SIGINT" | "SIGTERM";

export interface ServeOptions {
  port: number;
  /** The interface to listen on (`0.0.0.0` or `::` for every one); the runtime's default (every interface) when absent. */
  hostname?: string;
  /** `client.clientAddress`: the address the connection came from (the rate limiter's key for anonymous callers). */
  fetch: (request: Request, client: { clientAddress?: string }) => Response | Promise<Response>;
  /** A cap the runtime applies before the app sees the body (Bun has one; Deno leaves it to the app). */
  maxRequestBodySize: number;
}

export interface RunningServer {
  readonly port: number;
  /**
   * Stops taking new requests (the listener closes, or new requests are
   * answered 503 while the server drains); resolves once the requests in
   * flight are answered.
   */
  shutdown(): Promise<void>;
  /** Drops every open connection at once (after `shutdown` took too long). */
  forceClose(): Promise<void>;
}

export interface Runtime {
  /** `bun` or `deno`. */
  readonly name: string;
  readonly version: string;
  env(): Record<string, string | undefined>;
  /** Command-line arguments after the script. */
  args(): string[];
  serve(options: ServeOptions): RunningServer;
  /** Calls `handler` on SIGINT and SIGTERM (the handler decides what a second one means). */
  onStopSignal(handler: (signal: StopSignal) => void): void;
  memory(): ProcessFigures;
  exit(code: number): never;
}

export const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/** The driver of the runtime this process runs on, loaded on demand so each runtime loads only its own. */
export async function loadRuntime(): Promise<Runtime> {
  const globals = globalThis as { Bun?: unknown; Deno?: unknown };
  if (globals.Bun !== undefined) return (await import("./bun.ts")).bunRuntime;
  if (globals.Deno !== undefined) return (await import("./deno.ts")).denoRuntime;
  throw new Error("the registry runs on Bun or Deno; this runtime is neither");
}
