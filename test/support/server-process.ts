/**
 * A server run as a child process on a free port of 127.0.0.1, started the
 * way a test or benchmark needs it: spawned with PATH, HOME and PORT plus the
 * given settings, its stdout and stderr collected for failure messages, and
 * polled until a probe path answers. Stopping sends SIGTERM, then SIGKILL
 * after 10 s. Used by test/clients/registry-process.ts (bun src/server.ts on
 * a fresh database), test/runtime/edge-hosts.ts (each edge host) and
 * bench/edge/edge.bench.ts (the hosts' floors).
 */
import { freePort } from "../../scripts/lib/free-port.ts";

export interface ServerProcess {
  url: string;
  pid: number;
  /** performance.now() when the process was spawned and when it first answered. */
  spawnedAt: number;
  answeredAt: number;
  /** What the server wrote so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Names the process in failure messages. */
  name: string;
  /** The command line, given the port the server must listen on. */
  command: (port: number) => string[];
  cwd: string;
  /** Settings added to PATH, HOME and PORT. */
  env: Record<string, string>;
  timeoutMs: number;
  /** The path polled until it answers; /health/live unless given. */
  probePath?: string;
  /** Which statuses of the probe count as started; any below 500 unless given. */
  answered?: (status: number) => boolean;
  /** The pause between probes, ms; 50 unless given. */
  pollMs?: number;
}

/** Spawns the server and waits until it answers; throws, with its output, if it exits or never answers. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, probePath = "/health/live", answered = (status) => status < 500, pollMs = 50 } = options;
  const port = freePort();
  const spawnedAt = performance.now();
  const child = Bun.spawn(options.command(port), {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: String(port),
      ...options.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
    }
  };
  void drain(child.stdout as ReadableStream<Uint8Array>);
  void drain(child.stderr as ReadableStream<Uint8Array>);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!exited) child.kill("SIGKILL");
  };
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    const answer = await fetch(`${url}${probePath}`).catch(() => null);
    await answer?.arrayBuffer();
    if (answer && answered(answer.status)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer within ${options.timeoutMs} ms:\n${output}`);
    }
    await Bun.sleep(pollMs);
  }
  return { url, pid: child.pid, spawnedAt, answeredAt: performance.now(), output: () => output, stop };
}
