/**
 * Sends the fuzzer's requests and reports what came back: through fetch()
 * for well-formed HTTP, and over a plain socket for the bytes fetch() would
 * normalise or refuse (raw `..` segments, non-ASCII bytes on the request
 * line, bad framing). Every request has a deadline: a request still
 * unanswered after it is a hang, which the fuzz property forbids.
 */
import { connect } from "node:net";
import type { FuzzRequest } from "./fuzz-requests.ts";

export interface FuzzOutcome {
  /** The HTTP status, or null when no answer came (connection closed, hang, or a request the client refused to send). */
  status: number | null;
  /** The answer's body (the start of it), for refusals the oracle reads and for failure messages. */
  body: string;
  ms: number;
  /** No answer within the deadline. */
  timedOut: boolean;
  /** The connection failed without an answer. */
  connectionError?: string;
  /** fetch() itself refused to build the request (a header value it does not allow): never sent. */
  notSent?: boolean;
}

const BODY_EXCERPT = 2000;

export async function send(base: string, request: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  return request.raw ? sendRaw(base, request, timeoutMs) : sendFetch(base, request, timeoutMs);
}

async function sendFetch(base: string, request: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  const started = performance.now();
  let headers: Headers;
  let url: string;
  try {
    headers = new Headers(request.headers);
    url = `${base}${request.target}`;
    new URL(url);
  } catch {
    return { status: null, body: "", ms: 0, timedOut: false, notSent: true };
  }
  try {
    const response = await fetch(url, {
      method: request.method,
      headers,
      body: request.body as Uint8Array<ArrayBuffer> | null,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      // Each request on a connection of its own would exhaust ports at this rate; keep-alive is the default.
    });
    const text = request.method === "HEAD" ? "" : await response.text();
    return {
      status: response.status,
      body: text.slice(0, BODY_EXCERPT),
      ms: performance.now() - started,
      timedOut: false,
    };
  } catch (error) {
    const ms = performance.now() - started;
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError" || name === "AbortError")
      return { status: null, body: "", ms, timedOut: true };
    const message = error instanceof Error ? `${name}: ${error.message}` : String(error);
    // Bun refuses some requests before sending them (an invalid method or header): not the server's doing.
    if (error instanceof TypeError && !/socket|connect|closed|reset/i.test(message)) {
      return { status: null, body: "", ms, timedOut: false, notSent: true };
    }
    return { status: null, body: "", ms, timedOut: false, connectionError: message };
  }
}

/** The request's bytes: the target and header values are byte strings (one byte per character). */
function rawBytes(host: string, request: FuzzRequest): Uint8Array {
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  if (!names.has("host")) lines.push(`Host: ${host}`);
  lines.push("Connection: close");
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.body !== null && !names.has("content-length") && !names.has("transfer-encoding")) {
    lines.push(`Content-Length: ${request.body.length}`);
  }
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return request.body === null ? head : Buffer.concat([head, request.body]);
}

function sendRaw(base: string, request: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const finish = (outcome: Omit<FuzzOutcome, "ms" | "body" | "status"> & { status?: number | null }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const bodyStart = text.indexOf("\r\n\r\n");
      resolve({
        status: outcome.status ?? (match ? Number(match[1]) : null),
        body: bodyStart >= 0 ? text.slice(bodyStart + 4, bodyStart + 4 + BODY_EXCERPT) : "",
        ms: performance.now() - started,
        timedOut: outcome.timedOut,
        ...(outcome.connectionError ? { connectionError: outcome.connectionError } : {}),
      });
    };
    const timer = setTimeout(() => {
      // An answer already started counts as answered; silence does not.
      finish({ timedOut: chunks.length === 0 });
    }, timeoutMs);
    // write, not end: Bun takes a half-closed connection for an aborted request and drops its answer.
    socket.on("connect", () => socket.write(rawBytes(`${hostname}:${port}`, request)));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => finish({ timedOut: false }));
    socket.on("close", () => finish({ timedOut: false }));
    socket.on("error", (error) => finish({ timedOut: false, connectionError: error.message }));
  });
}
