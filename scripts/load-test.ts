/**
 * Load test of the registry's HTTP API:
 *
 *   bun run scripts/load-test.ts --duration 60s --concurrency 100
 *       [--url http://127.0.0.1:8080] [--mix read=90,write=5,search=5 | 90/5/5] [--json] [--seed N]
 *       [--runtime bun|deno|in-process] [--embedded] [--warmup 2s] [--subjects 200] [--versions 3]
 *       [--rate N] [--max-requests N] [--allow-remote]
 *
 * Without --url it starts the registry itself on a free port of 127.0.0.1,
 * configured from the environment (DATABASE_URL, REDIS_URL, …; --embedded
 * puts it on an in-memory PGlite instead), and stops it at the end. By default
 * the server runs as a child process (`bun src/server.ts`; `--runtime deno`:
 * the command of `deno task start`), not in this process: on a machine with
 * few cores a server sharing the load generator's event loop would measure the
 * generator's contention, not the server. `--runtime in-process` does share
 * it, for a quick look without a second process.
 *
 * It seeds its own data through the API (--subjects subjects × --versions
 * versions of realistic JSON Schemas, under a subject prefix unique to the
 * run), warms up, then drives the API from --concurrency workers with `fetch`
 * for --duration (and at most --max-requests requests):
 *
 *   read    GET a schema by id, by subject and version, or the subject's latest
 *           (a third each), the schema drawn from a Zipf distribution so that a
 *           few are hot, as in production
 *   write   POST a new version of a seeded subject (201)
 *   search  GET /search?q=… with a word of the seeded descriptions, sometimes
 *           with a tag or type filter
 *
 * By default the workers run a closed loop: each sends its next request as
 * soon as the last one is answered, so the run finds the throughput the
 * server sustains, and latency is what --concurrency requests in flight cost
 * (Little's law: mean latency = concurrency / throughput). With --rate N the
 * load is an open loop instead: N requests per second in all, due on a fixed
 * schedule whether the server keeps up or not (at most --concurrency in
 * flight), each one's latency counted from when it was due, so the
 * percentiles say how the server answers at that rate, queueing included.
 *
 * It prints throughput and p50/p95/p99 per operation (from a log-linear
 * histogram of its own, under 1 % error), errors by status, and the cache hit
 * rate during the run (the difference of /api/v1/stats before and after), or
 * with --json one JSON document. The exit code is 1 when any request failed.
 * Only loopback URLs are accepted unless --allow-remote is given: this is a
 * tool for the machine it runs on, not for someone else's server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "./lib/free-port.ts";
import { processCpuSeconds } from "./lib/process-cpu.ts";

// ---------------------------------------------------------------- options

export type Operation = "read" | "write" | "search";
const OPERATIONS: readonly Operation[] = ["read", "write", "search"];

export interface LoadTestOptions {
  url: string | null;
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  mix: Record<Operation, number>;
  seed: number;
  subjects: number;
  versions: number;
  maxRequests: number;
  /** Requests per second across all workers (open loop); null: each worker sends as fast as it is answered. */
  rate: number | null;
  runtime: "bun" | "deno" | "in-process";
  embedded: boolean;
  json: boolean;
  allowRemote: boolean;
}

const USAGE = `usage: bun run scripts/load-test.ts [--duration 60s] [--concurrency 100] [--url URL]
       [--mix read=90,write=5,search=5 | 90/5/5] [--json] [--seed N] [--warmup 2s]
       [--runtime bun|deno|in-process] [--embedded] [--subjects 200] [--versions 3]
       [--rate N] [--max-requests N] [--allow-remote]`;

class UsageError extends Error {}

/** `60s`, `1.5m`, `500ms`, or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`not a duration: ${text} (write 60s, 2m or 500ms)`);
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  return Math.round(unit === "ms" ? value : unit === "m" ? value * 60_000 : value * 1000);
}

export function parseMix(text: string): Record<Operation, number> {
  const mix: Record<Operation, number> = { read: 0, write: 0, search: 0 };
  // The short form names the weights in the order read/write/search: `50/5/45` is a search storm.
  const short = /^\s*(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (short) {
    mix.read = Number(short[1]);
    mix.write = Number(short[2]);
    mix.search = Number(short[3]);
    if (OPERATIONS.every((op) => mix[op] === 0))
      throw new UsageError("the mix gives every operation weight 0");
    return mix;
  }
  for (const part of text.split(",")) {
    const [name, weight] = part.split("=").map((s) => s.trim());
    if (!OPERATIONS.includes(name as Operation) || !/^\d+(\.\d+)?$/.test(weight ?? "")) {
      throw new UsageError(`not an operation mix: ${text} (write read=90,write=5,search=5 or 90/5/5)`);
    }
    mix[name as Operation] = Number(weight);
  }
  if (OPERATIONS.every((op) => mix[op] === 0)) throw new UsageError("the mix gives every operation weight 0");
  return mix;
}

function positiveInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
  return value;
}

export function parseOptions(argv: string[]): LoadTestOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: "string" },
      duration: { type: "string", default: "60s" },
      warmup: { type: "string" },
      concurrency: { type: "string", default: "100" },
      mix: { type: "string", default: "read=90,write=5,search=5" },
      seed: { type: "string", default: "1" },
      subjects: { type: "string", default: "200" },
      versions: { type: "string", default: "3" },
      "max-requests": { type: "string" },
      rate: { type: "string" },
      runtime: { type: "string", default: "bun" },
      embedded: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "allow-remote": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new UsageError("");
  const runtime = values.runtime;
  if (runtime !== "bun" && runtime !== "deno" && runtime !== "in-process") {
    throw new UsageError("--runtime is bun, deno or in-process");
  }
  if (values.url && values.embedded)
    throw new UsageError("--embedded starts a server; it cannot go with --url");
  const durationMs = parseDuration(values.duration);
  const options: LoadTestOptions = {
    url: values.url ?? null,
    durationMs,
    // Long enough for the JIT and the pools to settle, never most of a short run.
    warmupMs: values.warmup !== undefined ? parseDuration(values.warmup) : Math.min(2000, durationMs / 5),
    concurrency: positiveInteger(values.concurrency, "concurrency"),
    mix: parseMix(values.mix),
    seed: Number.parseInt(values.seed, 10) || 0,
    subjects: positiveInteger(values.subjects, "subjects"),
    versions: positiveInteger(values.versions, "versions"),
    maxRequests: values["max-requests"]
      ? positiveInteger(values["max-requests"], "max-requests")
      : 50_000_000,
    rate: values.rate ? positiveInteger(values.rate, "rate") : null,
    runtime,
    embedded: values.embedded,
    json: values.json,
    allowRemote: values["allow-remote"],
  };
  if (options.url) checkTarget(options.url, options.allowRemote);
  return options;
}

function checkTarget(url: string, allowRemote: boolean): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  const loopback = host === "localhost" || host === "[::1]" || host === "::1" || /^127\./.test(host);
  if (!loopback && !allowRemote) {
    throw new UsageError(
      `${host} is not a loopback address; pass --allow-remote to load a server you run elsewhere`,
    );
  }
}

// -------------------------------------------------------------- histogram

/**
 * Latencies in microseconds, log-linear: exact below 128 µs, then 64 buckets
 * per power of two (under 0.8 % error), 1.7k counters for up to 35 minutes.
 */
export class Histogram {
  private static readonly SUB = 128;
  private readonly counts = new Float64Array(Histogram.SUB + 25 * 64);
  count = 0;
  max = 0;
  private sum = 0;

  record(micros: number): void {
    const value = Math.min(Math.max(0, Math.round(micros)), 2 ** 31 - 1);
    this.counts[Histogram.indexOf(value)]!++;
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value below which `p` percent of the recordings fall (bucket midpoint, capped at the max). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Histogram.valueOf(i), this.max);
    }
    return this.max;
  }

  private static indexOf(value: number): number {
    if (value < Histogram.SUB) return value;
    const shift = 31 - Math.clz32(value) - 6;
    return Histogram.SUB + (shift - 1) * 64 + ((value >> shift) - 64);
  }

  private static valueOf(index: number): number {
    if (index < Histogram.SUB) return index;
    const k = index - Histogram.SUB;
    const shift = Math.floor(k / 64) + 1;
    return ((k % 64) + 64) * 2 ** shift + 2 ** (shift - 1);
  }
}

// ---------------------------------------------------------- random numbers

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws 0..n-1 with probability ∝ 1/(k+1)^s, by inverting a precomputed CDF. */
export function zipf(n: number, s = 1.1): (rng: () => number) => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return (rng) => {
    const target = rng() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

// ------------------------------------------------------------- seed data

const DOMAINS = [
  { area: "chat", names: ["CompletionRequest", "CompletionResponse", "Message", "ToolCall", "StreamChunk"] },
  { area: "embeddings", names: ["EmbeddingRequest", "EmbeddingResponse", "VectorRecord"] },
  { area: "orders", names: ["OrderCreated", "OrderShipped", "OrderCancelled", "Refund"] },
  { area: "billing", names: ["Invoice", "PaymentCaptured", "UsageRecord", "Subscription"] },
  { area: "identity", names: ["UserSignedUp", "SessionStarted", "ApiKeyRotated"] },
  { area: "moderation", names: ["ModerationVerdict", "PolicyViolation"] },
] as const;
const TEAMS = ["platform-team", "ml-infra", "payments", "growth", "trust-safety"];
const TAGS = [
  "llm",
  "production",
  "events",
  "pii",
  "billing",
  "internal",
  "beta",
  "streaming",
  "v2",
  "audit",
];
const WORDS = [
  "completion",
  "request",
  "response",
  "embedding",
  "order",
  "payment",
  "invoice",
  "session",
  "moderation",
  "stream",
  "usage",
  "refund",
];
const FIELD_TYPES = [
  { type: "string", maxLength: 4096 },
  { type: "integer", minimum: 0 },
  { type: "number" },
  { type: "boolean" },
  { type: "string", format: "date-time" },
  { type: "array", items: { type: "string" }, maxItems: 64 },
  { type: "string", enum: ["system", "user", "assistant", "tool"] },
];

interface SeedSubject {
  subject: string;
  area: string;
  name: string;
}

function subjectsFor(prefix: string, count: number): SeedSubject[] {
  const out: SeedSubject[] = [];
  for (let i = 0; out.length < count; i++) {
    const domain = DOMAINS[i % DOMAINS.length]!;
    const name = domain.names[Math.floor(i / DOMAINS.length) % domain.names.length]!;
    out.push({ subject: `${prefix}.${domain.area}.${name}${i}`, area: domain.area, name });
  }
  return out;
}

/**
 * A JSON Schema of the kind an LLM or event platform registers. The subject
 * fixes its fields and their types; each `revision` adds one optional field,
 * the evolution a BACKWARD subject accepts, so every seeded version and every
 * write passes the compatibility check. The object is open (extra properties
 * allowed), so writes made at once to one subject, each adding a field of its
 * own, stay compatible with one another. `rng` varies only the descriptions.
 */
function schemaContent(subject: SeedSubject, revision: number, rng: () => number): Record<string, unknown> {
  const structure = random(hashOf(subject.subject));
  const properties: Record<string, unknown> = {
    id: { type: "string", format: "uuid", description: `Identifier of the ${subject.name}` },
    created_at: { type: "string", format: "date-time" },
  };
  const fields = 4 + Math.floor(structure() * 8);
  for (let f = 0; f < fields + revision; f++) {
    properties[`${subject.area}_field_${f}`] = {
      ...(f < fields ? FIELD_TYPES[Math.floor(structure() * FIELD_TYPES.length)]! : { type: "string" }),
      description: `${WORDS[Math.floor(rng() * WORDS.length)]} attribute ${f}`,
    };
  }
  properties.metadata = {
    type: "object",
    additionalProperties: { type: "string" },
    properties: { trace_id: { type: "string" }, tenant: { type: "string" } },
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://schemas.example.com/${subject.subject}`,
    title: subject.name,
    type: "object",
    properties,
    required: ["id", "created_at"],
  };
}

/** A 32-bit FNV-1a hash: a stable seed from a name. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function metadataFor(subject: SeedSubject, rng: () => number): Record<string, unknown> {
  const tags = new Set<string>();
  const count = 1 + Math.floor(rng() * 3);
  while (tags.size < count) tags.add(TAGS[Math.floor(rng() * TAGS.length)]!);
  const word = WORDS[Math.floor(rng() * WORDS.length)]!;
  return {
    description: `${subject.name} of the ${subject.area} service: ${word} payload sent between services`,
    tags: [...tags],
    owner: TEAMS[Math.floor(rng() * TEAMS.length)]!,
    custom: { area: subject.area },
  };
}

interface SeededSchema {
  id: string;
  subject: string;
  version: string;
}

// ---------------------------------------------------------------- the run

interface OperationResult {
  requests: number;
  errors: number;
  histogram: Histogram;
}

interface PhaseResult {
  elapsedMs: number;
  operations: Record<Operation, OperationResult>;
  errorsByStatus: Record<string, number>;
}

/** What the server's histogram says per operation; p95 interpolated within its buckets (0.5 ms to 10 s). */
export interface ServerView {
  operations: Record<Operation, { requests: number; p50_ms: number | null; p95_ms: number | null }>;
  /** CPU seconds during the run: the load generator (this process) and the server's process (Linux, child only). */
  cpu_s: { generator: number; server: number | null };
}

interface CacheFigures {
  tiers: Record<string, { hits: number; misses: number }>;
}

export interface LoadTestReport {
  target: { url: string; server: string };
  options: {
    duration_s: number;
    warmup_s: number;
    concurrency: number;
    /** Open-loop requests per second; null for a closed loop. */
    rate: number | null;
    mix: Record<Operation, number>;
    seed: number;
  };
  seeding: { subjects: number; versions: number; schemas: number; seconds: number };
  elapsed_s: number;
  requests: number;
  throughput_rps: number;
  operations: Record<
    Operation,
    {
      requests: number;
      throughput_rps: number;
      errors: number;
      p50_ms: number;
      p95_ms: number;
      p99_ms: number;
      max_ms: number;
      mean_ms: number;
    }
  >;
  errors: { total: number; by_status: Record<string, number> };
  /**
   * The server's own view of the same run, from the difference of its
   * /metrics request-duration histogram before and after (time from the
   * request's arrival to its response headers, so without the load
   * generator's own queueing), and the CPU each side used. null when
   * /metrics could not be read.
   */
  server: ServerView | null;
  /** null when the server runs no cache (its /stats say `cache: null`). */
  cache: {
    hit_rate: number | null;
    tiers: Record<string, { hits: number; misses: number; hit_rate: number | null }>;
  } | null;
}

class Api {
  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("Content-Type") ?? "").includes("json") && text !== "")
      parsed = JSON.parse(text);
    return { status: response.status, body: parsed };
  }
}

/** Runs `work` over items with at most `limit` in flight. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function seed(
  api: Api,
  options: LoadTestOptions,
  prefix: string,
): Promise<{ subjects: SeedSubject[]; schemas: SeededSchema[] }> {
  const subjects = subjectsFor(prefix, options.subjects);
  const schemas: SeededSchema[] = [];
  const rng = random(options.seed);
  await inParallel(subjects, 16, async (subject) => {
    const metadata = metadataFor(subject, rng);
    for (let revision = 0; revision < options.versions; revision++) {
      const res = await api.request("POST", "/api/v1/schemas", {
        subject: subject.subject,
        schema_type: "json",
        content: schemaContent(subject, revision, rng),
        metadata,
      });
      if (res.status !== 201) {
        throw new Error(`seeding ${subject.subject} answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
      const created = res.body as { id: string; version: string };
      schemas.push({ id: created.id, subject: subject.subject, version: created.version });
    }
  });
  // Interleave areas, so that the Zipf head is not one subject's versions.
  const order = random(options.seed + 1);
  for (let i = schemas.length - 1; i > 0; i--) {
    const j = Math.floor(order() * (i + 1));
    [schemas[i], schemas[j]] = [schemas[j]!, schemas[i]!];
  }
  return { subjects, schemas };
}

async function runPhase(
  base: string,
  options: LoadTestOptions,
  data: { subjects: SeedSubject[]; schemas: SeededSchema[] },
  durationMs: number,
  seedOffset: number,
): Promise<PhaseResult> {
  const operations = Object.fromEntries(
    OPERATIONS.map((op) => [op, { requests: 0, errors: 0, histogram: new Histogram() }]),
  ) as Record<Operation, OperationResult>;
  const errorsByStatus: Record<string, number> = {};
  const weights = OPERATIONS.map((op) => options.mix[op]);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const hot = zipf(data.schemas.length);
  let issued = 0;
  let writes = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const hardStop = deadline + durationMs;

  const worker = async (index: number) => {
    const rng = random(options.seed * 7919 + seedOffset * 104_729 + index);
    while (issued < options.maxRequests) {
      // Closed loop: until the deadline. Open loop: until every request due before it was sent,
      // however late (at most one more duration, so a server that stalls cannot hold the run forever).
      if (performance.now() >= (options.rate === null ? deadline : hardStop)) break;
      const ticket = issued++;
      // Open loop: request k is due at started + k / rate, and its latency counts from then,
      // so a server that falls behind shows as latency rather than as fewer requests.
      let due: number | null = null;
      if (options.rate !== null) {
        due = started + (ticket * 1000) / options.rate;
        if (due >= deadline) break;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      let pick = rng() * totalWeight;
      let op: Operation = "read";
      for (let i = 0; i < OPERATIONS.length; i++) {
        pick -= weights[i]!;
        if (pick < 0) {
          op = OPERATIONS[i]!;
          break;
        }
      }
      let method = "GET";
      let path: string;
      let body: string | undefined;
      let expected: number[] = [200];
      if (op === "read") {
        const schema = data.schemas[hot(rng)]!;
        const kind = rng();
        path =
          kind < 1 / 3
            ? `/api/v1/schemas/${schema.id}`
            : kind < 2 / 3
              ? `/api/v1/subjects/${schema.subject}/versions/${schema.version}`
              : `/api/v1/subjects/${schema.subject}/versions/latest`;
      } else if (op === "write") {
        const subject = data.subjects[Math.floor(rng() * data.subjects.length)]!;
        method = "POST";
        path = "/api/v1/schemas";
        const content = schemaContent(subject, 1, rng);
        // A field of its own, so that every write is new content, hence a new version.
        (content.properties as Record<string, unknown>)[`added_${seedOffset}_${index}_${writes++}`] = {
          type: "string",
        };
        body = JSON.stringify({ subject: subject.subject, schema_type: "json", content });
        expected = [201];
      } else {
        const word = WORDS[Math.floor(rng() * WORDS.length)]!;
        const filter = rng();
        const extra =
          filter < 0.2
            ? `&tags=${TAGS[Math.floor(rng() * TAGS.length)]}`
            : filter < 0.3
              ? "&schema_type=json&state=active"
              : "";
        path = `/api/v1/search?q=${encodeURIComponent(word)}&limit=20${extra}`;
      }
      const result = operations[op];
      const begin = due ?? performance.now();
      let failure: string | null = null;
      try {
        const response = await fetch(`${base}${path}`, {
          method,
          ...(body === undefined ? {} : { body, headers: { "Content-Type": "application/json" } }),
        });
        await response.arrayBuffer();
        if (!expected.includes(response.status)) failure = String(response.status);
      } catch (error) {
        failure = `network error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 120);
      }
      result.histogram.record((performance.now() - begin) * 1000);
      result.requests++;
      if (failure !== null) {
        result.errors++;
        const key = `${op} ${failure}`;
        errorsByStatus[key] = (errorsByStatus[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  return { elapsedMs: performance.now() - started, operations, errorsByStatus };
}

/** Cumulative request-duration buckets per operation (or whatever `classify` names), from the server's /metrics. */
type DurationBuckets = Record<string, Map<number, number>>;

/** Which operation of the mix a route of the histogram belongs to. */
export function operationOf(method: string, route: string): Operation | null {
  if (route.includes("/search")) return "search";
  if (method === "POST" && /^\/api\/v1\/schemas\/?$/.test(route)) return "write";
  if (method === "GET" && (route.startsWith("/api/v1/schemas/") || route.startsWith("/api/v1/subjects/")))
    return "read";
  return null;
}

export function parseDurationBuckets(
  text: string,
  classify: (method: string, route: string) => string | null = operationOf,
): DurationBuckets {
  const buckets: DurationBuckets = Object.fromEntries(
    OPERATIONS.map((op) => [op, new Map<number, number>()]),
  );
  // Greedy up to the last brace: a label value may hold braces of its own (a route template's `{id}`).
  const line = /^schema_registry_http_request_duration_seconds_bucket\{(.*)\} ([0-9.e+]+)$/;
  for (const raw of text.split("\n")) {
    const match = line.exec(raw);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...match[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const op = classify(labels.method ?? "", labels.route ?? "");
    if (op === null || labels.le === undefined) continue;
    const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
    buckets[op] ??= new Map<number, number>();
    const into = buckets[op];
    into.set(le, (into.get(le) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The q-th percentile (0-100) of the requests between two scrapes, interpolated linearly within a bucket. */
export function bucketPercentile(
  before: Map<number, number>,
  after: Map<number, number>,
  q: number,
): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = (q / 100) * total;
  let lower = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const below = i === 0 ? 0 : counts[i - 1]!;
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return lower * 1000;
      const within = counts[i]! - below;
      return (lower + ((rank - below) / Math.max(within, 1)) * (upper - lower)) * 1000;
    }
    lower = bounds[i]!;
  }
  return null;
}

async function durationBuckets(api: Api): Promise<DurationBuckets | null> {
  try {
    const response = await fetch(`${api.base}/metrics`);
    if (response.status !== 200) return null;
    return parseDurationBuckets(await response.text());
  } catch {
    return null;
  }
}

function generatorCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export function serverView(
  before: DurationBuckets | null,
  after: DurationBuckets | null,
  cpu: { generator: number; server: number | null },
): ServerView | null {
  if (!before || !after) return null;
  const round = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);
  const operations = Object.fromEntries(
    OPERATIONS.map((op) => {
      const inf = Number.POSITIVE_INFINITY;
      const [was, now] = [before[op] ?? new Map<number, number>(), after[op] ?? new Map<number, number>()];
      const requests = (now.get(inf) ?? 0) - (was.get(inf) ?? 0);
      return [
        op,
        {
          requests,
          p50_ms: round(bucketPercentile(was, now, 50)),
          p95_ms: round(bucketPercentile(was, now, 95)),
        },
      ];
    }),
  ) as ServerView["operations"];
  return {
    operations,
    cpu_s: {
      generator: Math.round(cpu.generator * 100) / 100,
      server: cpu.server === null ? null : Math.round(cpu.server * 100) / 100,
    },
  };
}

async function cacheFigures(api: Api): Promise<CacheFigures | null> {
  const res = await api.request("GET", "/api/v1/stats");
  if (res.status !== 200) throw new Error(`GET /api/v1/stats answered ${res.status}`);
  const cache = (res.body as { cache?: CacheFigures | null }).cache;
  return cache ?? null;
}

export function cacheDuringRun(
  before: CacheFigures | null,
  after: CacheFigures | null,
): LoadTestReport["cache"] {
  if (!before || !after) return null;
  const tiers: Record<string, { hits: number; misses: number; hit_rate: number | null }> = {};
  for (const [name, figures] of Object.entries(after.tiers)) {
    const hits = figures.hits - (before.tiers[name]?.hits ?? 0);
    const misses = figures.misses - (before.tiers[name]?.misses ?? 0);
    tiers[name] = { hits, misses, hit_rate: hits + misses === 0 ? null : hits / (hits + misses) };
  }
  // Schema lookups ask L1, then L2 on a miss; an L2 miss (or an L1 miss without L2) went to the database.
  // Other tiers (the content cache) are lookups of their own, reported beside it.
  const first = tiers.l1 ?? tiers.l2;
  const last = tiers.l2 ?? tiers.l1;
  const lookups = first ? first.hits + first.misses : 0;
  const hitRate = first && last && lookups > 0 ? 1 - last.misses / lookups : null;
  return { hit_rate: hitRate, tiers };
}

// ---------------------------------------------------------- the server

interface StartedServer {
  url: string;
  description: string;
  /** The server's process when it is a child of this one (its CPU is read from /proc). */
  pid?: number;
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dir, "..");

/** The server's command: `bun src/server.ts`, or `deno task start` with this project's deno. */
function serverCommand(runtime: "bun" | "deno"): string[] {
  if (runtime === "bun") return [process.execPath, "src/server.ts"];
  const deno = join(ROOT, "node_modules", ".bin", "deno");
  if (!existsSync(deno)) throw new Error(`${deno} is missing: npm install first`);
  return [deno, "task", "start"];
}

async function waitUntilReady(url: string, child: ChildProcess | null, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`the server exited with ${child.exitCode} before it was ready:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server was not ready within 60 s:\n${output()}`);
}

async function startServer(options: LoadTestOptions): Promise<StartedServer> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    // The server it starts is its own: open, unless the operator's environment turns auth on.
    AUTH_REQUIRED: "false",
    ...(process.env as Record<string, string>),
    PORT: String(port),
    // Request logs at info would be part of what is measured.
    LOG_LEVEL: "warn",
    ...(options.embedded ? { DATABASE_URL: "pglite://memory" } : {}),
  };
  const storage = options.embedded
    ? "embedded PGlite in memory"
    : env.DATABASE_URL
      ? `PostgreSQL ${redact(env.DATABASE_URL)}`
      : "embedded PGlite in ./data";
  const cache = env.REDIS_URL
    ? `, Redis ${redact(env.REDIS_URL)}`
    : env.UPSTASH_REDIS_REST_URL
      ? ", Upstash"
      : "";

  if (options.runtime === "in-process") {
    const { loadConfig } = await import("../src/app/config/load-config.ts");
    const { createRegistry } = await import("../src/app/create-registry.ts");
    const registry = await createRegistry(await loadConfig({ env }));
    const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: registry.fetch });
    await waitUntilReady(url, null, () => "");
    return {
      url,
      description: `in-process Bun ${Bun.version} (shares the generator's event loop), ${storage}${cache}`,
      async stop() {
        await server.stop(true);
        await registry.close();
      },
    };
  }

  const command = serverCommand(options.runtime);
  // Its own process group, so that stopping it reaches whatever it started too.
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    if (child.pid === undefined) return;
    const group = -child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(group, name);
      } catch {
        // The group is gone already.
      }
    };
    // The whole group: `deno task` runs the server as a child of its own.
    signal("SIGTERM");
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && (child.exitCode === null || (await answers(url)))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    signal("SIGKILL");
  };
  try {
    await waitUntilReady(url, child, () => tail);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    // `deno task` runs the server as a child of its own: only Bun's process is the server itself.
    ...(child.pid === undefined || options.runtime !== "bun" ? {} : { pid: child.pid }),
    description: `${options.runtime} child process (${command.slice(1).join(" ")}), ${storage}${cache}`,
    stop,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health/live`);
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

// -------------------------------------------------------------- reporting

const ms = (micros: number) => Math.round(micros / 10) / 100;

function report(
  options: LoadTestOptions,
  target: StartedServer | { url: string; description: string },
  seeding: LoadTestReport["seeding"],
  phase: PhaseResult,
  cache: LoadTestReport["cache"],
  server: ServerView | null = null,
): LoadTestReport {
  const seconds = phase.elapsedMs / 1000;
  const operations = Object.fromEntries(
    OPERATIONS.map((op) => {
      const { requests, errors, histogram } = phase.operations[op];
      return [
        op,
        {
          requests,
          throughput_rps: Math.round((requests / seconds) * 10) / 10,
          errors,
          p50_ms: ms(histogram.percentile(50)),
          p95_ms: ms(histogram.percentile(95)),
          p99_ms: ms(histogram.percentile(99)),
          max_ms: ms(histogram.max),
          mean_ms: ms(histogram.mean),
        },
      ];
    }),
  ) as LoadTestReport["operations"];
  const requests = OPERATIONS.reduce((sum, op) => sum + phase.operations[op].requests, 0);
  const errors = OPERATIONS.reduce((sum, op) => sum + phase.operations[op].errors, 0);
  return {
    target: { url: target.url, server: target.description },
    options: {
      duration_s: options.durationMs / 1000,
      warmup_s: options.warmupMs / 1000,
      concurrency: options.concurrency,
      rate: options.rate,
      mix: options.mix,
      seed: options.seed,
    },
    seeding,
    elapsed_s: Math.round(seconds * 100) / 100,
    requests,
    throughput_rps: Math.round((requests / seconds) * 10) / 10,
    operations,
    errors: { total: errors, by_status: phase.errorsByStatus },
    server,
    cache,
  };
}

function formatText(result: LoadTestReport): string {
  const pct = (rate: number | null) => (rate === null ? "n/a" : `${(rate * 100).toFixed(1)} %`);
  const lines = [
    `load test: ${result.options.concurrency} workers for ${result.elapsed_s} s against ${result.target.url}, ` +
      (result.options.rate === null
        ? "closed loop (each worker sends as soon as it is answered)"
        : `open loop at ${result.options.rate} req/s (latency counted from when each request was due)`),
    `server: ${result.target.server}`,
    `mix ${OPERATIONS.map((op) => `${op}=${result.options.mix[op]}`).join(",")}, seed ${result.options.seed}, ` +
      `warm-up ${result.options.warmup_s} s; seeded ${result.seeding.subjects} subjects × ${result.seeding.versions} ` +
      `versions (${result.seeding.schemas} schemas) in ${result.seeding.seconds} s`,
    "",
    "operation   requests      req/s   p50 ms   p95 ms   p99 ms   max ms   errors",
  ];
  const row = (name: string, r: LoadTestReport["operations"][Operation]) =>
    `${name.padEnd(9)} ${String(r.requests).padStart(10)} ${r.throughput_rps.toFixed(1).padStart(10)} ` +
    `${[r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms].map((v) => v.toFixed(2).padStart(8)).join(" ")} ${String(r.errors).padStart(8)}`;
  for (const op of OPERATIONS) lines.push(row(op, result.operations[op]));
  lines.push(
    `${"total".padEnd(9)} ${String(result.requests).padStart(10)} ${result.throughput_rps.toFixed(1).padStart(10)}`,
  );
  lines.push("");
  const statuses = Object.entries(result.errors.by_status);
  lines.push(
    statuses.length === 0
      ? "errors: none"
      : `errors: ${result.errors.total} (${statuses.map(([k, v]) => `${k}: ${v}`).join(", ")})`,
  );
  if (result.server) {
    const view = result.server;
    const fmt = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(1)} ms`);
    lines.push(
      `server side (its /metrics histogram, arrival to response headers): ${OPERATIONS.map(
        (op) => `${op} p50 ${fmt(view.operations[op].p50_ms)}, p95 ${fmt(view.operations[op].p95_ms)}`,
      ).join("; ")}`,
    );
    lines.push(
      `CPU during the run: load generator ${view.cpu_s.generator.toFixed(1)} s, server ${
        view.cpu_s.server === null ? "n/a" : `${view.cpu_s.server.toFixed(1)} s`
      } (of ${(result.elapsed_s * availableParallelism()).toFixed(0)} s on ${availableParallelism()} cores)`,
    );
  }
  if (!result.cache) lines.push("cache: none reported by /api/v1/stats (no cache in front of the database)");
  else {
    const tiers = Object.entries(result.cache.tiers)
      .map(([name, t]) => `${name} ${pct(t.hit_rate)} of ${t.hits + t.misses}`)
      .join(", ");
    lines.push(`cache hit rate during the run: ${pct(result.cache.hit_rate)} (${tiers})`);
  }
  return lines.join("\n");
}

// ------------------------------------------------------------------- main

export async function runLoadTest(
  options: LoadTestOptions,
  log: (line: string) => void,
): Promise<LoadTestReport> {
  const server = options.url ? null : await startServer(options);
  const target = server ?? { url: options.url!.replace(/\/+$/, ""), description: "given by --url" };
  try {
    const api = new Api(target.url);
    const prefix = `loadtest.r${Date.now().toString(36)}`;
    log(`seeding ${options.subjects} subjects × ${options.versions} versions under ${prefix} …`);
    const seedStart = performance.now();
    const data = await seed(api, options, prefix);
    const seeding = {
      subjects: options.subjects,
      versions: options.versions,
      schemas: data.schemas.length,
      seconds: Math.round((performance.now() - seedStart) / 10) / 100,
    };
    if (options.warmupMs > 0) {
      log(`warming up for ${options.warmupMs / 1000} s …`);
      await runPhase(target.url, options, data, options.warmupMs, 1);
    }
    const before = await cacheFigures(api);
    const bucketsBefore = await durationBuckets(api);
    const cpuBefore = { generator: generatorCpuSeconds(), server: processCpuSeconds(server?.pid) };
    log(`running for ${options.durationMs / 1000} s with ${options.concurrency} workers …`);
    const phase = await runPhase(target.url, options, data, options.durationMs, 2);
    const cpuAfter = { generator: generatorCpuSeconds(), server: processCpuSeconds(server?.pid) };
    const bucketsAfter = await durationBuckets(api);
    const after = await cacheFigures(api);
    const cpu = {
      generator: cpuAfter.generator - cpuBefore.generator,
      server:
        cpuAfter.server === null || cpuBefore.server === null ? null : cpuAfter.server - cpuBefore.server,
    };
    return report(
      options,
      target,
      seeding,
      phase,
      cacheDuringRun(before, after),
      serverView(bucketsBefore, bucketsAfter, cpu),
    );
  } finally {
    await server?.stop();
  }
}

if (import.meta.main) {
  let options: LoadTestOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      if (error instanceof Error && error.message) console.error(error.message);
      console.error(USAGE);
      process.exit(2);
    }
    throw error;
  }
  try {
    // Progress goes to stderr, so that --json leaves stdout one document.
    const result = await runLoadTest(options, (line) => console.error(line));
    console.log(options.json ? JSON.stringify(result, null, 2) : formatText(result));
    process.exit(result.errors.total > 0 ? 1 : 0);
  } catch (error) {
    console.error(`load test failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
