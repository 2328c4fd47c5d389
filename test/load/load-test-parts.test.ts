/**
 * The load test's own parts: its histogram against exact percentiles, its
 * option parsing, and its error accounting and exit code against a small
 * server that fails one operation on purpose (no registry needed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  bucketPercentile,
  cacheDuringRun,
  Histogram,
  type LoadTestReport,
  parseDuration,
  parseDurationBuckets,
  parseMix,
  parseOptions,
  random,
  zipf,
} from "../../scripts/load-test.ts";

const ROOT = join(import.meta.dir, "..", "..");

describe("the server's view from /metrics", () => {
  const scrape = (fast: number, slow: number) =>
    [
      "# TYPE schema_registry_http_request_duration_seconds histogram",
      `schema_registry_http_request_duration_seconds_bucket{method="GET",route="/api/v1/schemas/{id}",status="200",le="0.001"} ${fast}`,
      `schema_registry_http_request_duration_seconds_bucket{method="GET",route="/api/v1/schemas/{id}",status="200",le="0.1"} ${fast + slow}`,
      `schema_registry_http_request_duration_seconds_bucket{method="GET",route="/api/v1/schemas/{id}",status="200",le="+Inf"} ${fast + slow}`,
      `schema_registry_http_request_duration_seconds_bucket{method="POST",route="/api/v1/schemas",status="201",le="+Inf"} 7`,
      `schema_registry_http_request_duration_seconds_bucket{method="GET",route="/health/ready",status="200",le="+Inf"} 3`,
    ].join("\n");

  test("buckets per operation of the mix, and percentiles of the requests between two scrapes", () => {
    const before = parseDurationBuckets(scrape(100, 0));
    const after = parseDurationBuckets(scrape(190, 10));
    expect(after.write?.get(Number.POSITIVE_INFINITY)).toBe(7);
    expect(after.read?.get(Number.POSITIVE_INFINITY)).toBe(200);
    // Between the scrapes: 90 requests under 1 ms, 10 between 1 and 100 ms.
    expect(bucketPercentile(before.read!, after.read!, 50)).toBeCloseTo(0.56, 1);
    const p95 = bucketPercentile(before.read!, after.read!, 95)!;
    expect(p95).toBeGreaterThan(1);
    expect(p95).toBeLessThan(100);
    expect(bucketPercentile(after.read!, after.read!, 95)).toBeNull();
  });
});

describe("Histogram", () => {
  test("percentiles within 1 % of the exact ones over six orders of magnitude", () => {
    const rng = random(42);
    const values: number[] = [];
    const histogram = new Histogram();
    for (let i = 0; i < 50_000; i++) {
      // Log-uniform from 10 µs to 10 s.
      const value = Math.round(10 * 10 ** (rng() * 6));
      values.push(value);
      histogram.record(value);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      expect(Math.abs(histogram.percentile(p) - exact) / exact).toBeLessThan(0.01);
    }
    expect(histogram.max).toBe(values.at(-1)!);
    expect(histogram.count).toBe(50_000);
  });

  test("small values are exact, an empty histogram answers 0, merge adds up", () => {
    const a = new Histogram();
    expect(a.percentile(99)).toBe(0);
    for (const v of [1, 2, 3, 4, 100]) a.record(v);
    expect(a.percentile(50)).toBe(3);
    expect(a.percentile(100)).toBe(100);
    const b = new Histogram();
    b.record(1_000_000);
    a.merge(b);
    expect(a.count).toBe(6);
    expect(a.max).toBe(1_000_000);
    expect(a.percentile(100)).toBe(1_000_000);
  });
});

describe("cache hit rate during the run", () => {
  test("the difference of two /stats readings; L1 then L2 is the chain, the content cache stands apart", () => {
    const before = { tiers: { l1: { hits: 100, misses: 50 }, l2: { hits: 10, misses: 40 } } };
    const after = {
      tiers: {
        l1: { hits: 1000, misses: 150 },
        l2: { hits: 60, misses: 90 },
        content: { hits: 0, misses: 0 },
      },
    };
    const cache = cacheDuringRun(before, after)!;
    expect(cache.tiers.l1).toEqual({ hits: 900, misses: 100, hit_rate: 0.9 });
    expect(cache.tiers.l2).toEqual({ hits: 50, misses: 50, hit_rate: 0.5 });
    expect(cache.tiers.content!.hit_rate).toBeNull();
    // 1,000 lookups, 50 of which reached the database.
    expect(cache.hit_rate).toBeCloseTo(0.95, 10);
    expect(cacheDuringRun(null, null)).toBeNull();
    const l1Only = cacheDuringRun(
      { tiers: { l1: { hits: 0, misses: 0 } } },
      { tiers: { l1: { hits: 3, misses: 1 } } },
    );
    expect(l1Only!.hit_rate).toBe(0.75);
  });
});

describe("options", () => {
  test("durations, mixes and the defaults of the issue's command", () => {
    expect(parseDuration("60s")).toBe(60_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("3")).toBe(3000);
    expect(() => parseDuration("soon")).toThrow("not a duration");
    expect(parseMix("read=90,write=5,search=5")).toEqual({ read: 90, write: 5, search: 5 });
    expect(parseMix("read=1")).toEqual({ read: 1, write: 0, search: 0 });
    expect(parseMix("50/5/45")).toEqual({ read: 50, write: 5, search: 45 });
    expect(() => parseMix("50/5")).toThrow("not an operation mix");
    expect(() => parseMix("0/0/0")).toThrow("weight 0");
    expect(() => parseMix("read=90,delete=10")).toThrow("not an operation mix");
    expect(() => parseMix("read=0")).toThrow("weight 0");

    const options = parseOptions(["--duration", "60s", "--concurrency", "100"]);
    expect(options).toMatchObject({
      url: null,
      durationMs: 60_000,
      warmupMs: 2000,
      concurrency: 100,
      mix: { read: 90, write: 5, search: 5 },
      runtime: "bun",
      json: false,
    });
  });

  test("only loopback targets, unless told otherwise", () => {
    expect(parseOptions(["--url", "http://127.0.0.1:8080"]).url).toBe("http://127.0.0.1:8080");
    expect(parseOptions(["--url", "http://localhost:8080"]).url).toBe("http://localhost:8080");
    expect(() => parseOptions(["--url", "https://registry.example.com"])).toThrow("not a loopback address");
    expect(parseOptions(["--url", "https://registry.example.com", "--allow-remote"]).url).toBe(
      "https://registry.example.com",
    );
    expect(() => parseOptions(["--url", "http://127.0.0.1:1", "--embedded"])).toThrow("cannot go with --url");
  });

  test("zipf draws the head most often and stays in range", () => {
    const draw = zipf(100);
    const rng = random(7);
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 20_000; i++) counts[draw(rng)]++;
    expect(counts[0]).toBeGreaterThan(counts[9] * 5);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20_000);
  });
});

describe("errors and the exit code", () => {
  let server: ReturnType<typeof Bun.serve>;
  let nextId = 0;

  beforeAll(() => {
    // Registers succeed, reads succeed, every search answers 503.
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const url = new URL(request.url);
        if (request.method === "POST") {
          return Response.json({ id: `id-${nextId++}`, version: "1.0.0" }, { status: 201 });
        }
        if (url.pathname === "/api/v1/search") return Response.json({ error: "down" }, { status: 503 });
        if (url.pathname === "/api/v1/stats") return Response.json({ cache: null });
        return Response.json({});
      },
    });
  });
  afterAll(() => server?.stop(true));

  test("a failing operation is counted by status and makes the exit code 1", async () => {
    const child = Bun.spawn(
      [
        process.execPath,
        "scripts/load-test.ts",
        ...["--url", `http://127.0.0.1:${server.port}`, "--duration", "500ms", "--warmup", "0"],
        ...["--concurrency", "4", "--subjects", "5", "--versions", "1", "--json"],
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as LoadTestReport;
    expect(report.operations.search.errors).toBe(report.operations.search.requests);
    expect(report.operations.search.requests).toBeGreaterThan(0);
    expect(report.operations.read.errors).toBe(0);
    expect(report.operations.write.errors).toBe(0);
    expect(report.errors.by_status).toEqual({ "search 503": report.operations.search.requests });
    expect(report.cache).toBeNull();
  });

  test("--rate sends exactly the requests due in the duration, on schedule", async () => {
    const child = Bun.spawn(
      [
        process.execPath,
        "scripts/load-test.ts",
        ...["--url", `http://127.0.0.1:${server.port}`, "--duration", "1s", "--warmup", "0", "--rate", "200"],
        ...["--concurrency", "8", "--subjects", "5", "--versions", "1", "--mix", "read=1", "--json"],
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as LoadTestReport;
    expect(report.options.rate).toBe(200);
    expect(report.requests).toBe(200);
    // Paced, not sent in a burst: the last one was due just before the second was over.
    expect(report.elapsed_s).toBeGreaterThanOrEqual(0.99);
  });
});
