/**
 * The metrics registry and its text exposition: what a Prometheus server
 * reads from it (checked with a strict parser of format 0.0.4), escaping,
 * cumulative histogram buckets, metrics read at scrape time, and the mistakes
 * it refuses.
 */
import { describe, expect, test } from "bun:test";
import {
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "../../src/observability/metrics-registry.ts";
import { parseExposition, samplesOf, sampleValue } from "./exposition-parser.ts";

describe("exposition", () => {
  test("counters and gauges with HELP, TYPE and labels", async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter("app_requests_total", "Requests served.", ["route"]);
    const inFlight = registry.gauge("app_in_flight", "Requests now.");
    requests.inc(["/a"]);
    requests.inc(["/a"], 2);
    requests.inc(["/b"]);
    inFlight.set([], 3);
    inFlight.add([], -1);

    const text = await registry.expose();
    expect(text).toBe(
      [
        "# HELP app_requests_total Requests served.",
        "# TYPE app_requests_total counter",
        'app_requests_total{route="/a"} 3',
        'app_requests_total{route="/b"} 1',
        "# HELP app_in_flight Requests now.",
        "# TYPE app_in_flight gauge",
        "app_in_flight 2",
        "",
      ].join("\n"),
    );
    const families = parseExposition(text);
    expect(families.get("app_requests_total")?.type).toBe("counter");
    expect(sampleValue(families, "app_in_flight")).toBe(2);
  });

  test("histogram buckets are cumulative, with +Inf equal to _count and the _sum of the values", async () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram("op_seconds", "Op time.", ["op"], [0.01, 0.1, 1]);
    for (const v of [0.005, 0.01, 0.05, 0.5, 3]) latency.observe(["read"], v);
    latency.observe(["write"], 0.2);

    const families = parseExposition(await registry.expose());
    const bucket = (le: string) => sampleValue(families, "op_seconds_bucket", { op: "read", le });
    // A value equal to a bound belongs in that bucket (le is "less or equal").
    expect([bucket("0.01"), bucket("0.1"), bucket("1"), bucket("+Inf")]).toEqual([2, 3, 4, 5]);
    expect(sampleValue(families, "op_seconds_count", { op: "read" })).toBe(5);
    expect(sampleValue(families, "op_seconds_sum", { op: "read" })).toBeCloseTo(3.565, 10);
    expect(sampleValue(families, "op_seconds_bucket", { op: "write", le: "0.1" })).toBe(0);
    expect(sampleValue(families, "op_seconds_bucket", { op: "write", le: "1" })).toBe(1);
  });

  test("label values with quotes, backslashes and line feeds survive the round trip", async () => {
    const registry = new MetricsRegistry();
    const odd = 'a "quoted" \\ path\nnext line';
    registry.counter("odd_total", "Help with a \\ backslash\nand a line feed.", ["value"]).inc([odd]);
    const text = await registry.expose();
    expect(text).toContain('odd_total{value="a \\"quoted\\" \\\\ path\\nnext line"} 1');
    const families = parseExposition(text);
    expect(samplesOf(families, "odd_total")[0]?.labels.value).toBe(odd);
    expect(families.get("odd_total")?.help).toBe("Help with a \\ backslash\nand a line feed.");
    expect(escapeLabelValue("plain")).toBe("plain");
  });

  test("special values are written the way Prometheus reads them", () => {
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf");
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf");
    expect(formatValue(Number.NaN)).toBe("NaN");
    expect(formatValue(1.5e-7)).toBe("1.5e-7");
    expect(Number(formatValue(1.5e-7))).toBe(1.5e-7);
  });

  test("observed metrics are read at every scrape and left out while they have no sample", async () => {
    const registry = new MetricsRegistry();
    let hits: number | null = null;
    registry.observe("cache_hits_total", "Hits.", "counter", () =>
      hits === null ? [] : [{ labels: { tier: "l1" }, value: hits }],
    );
    expect(await registry.expose()).toBe("");

    hits = 7;
    const first = await registry.expose();
    // Reading twice counts nothing twice: the value is the source's, not a sum of reads.
    const second = await registry.expose();
    expect(first).toBe(second);
    expect(sampleValue(parseExposition(second), "cache_hits_total", { tier: "l1" })).toBe(7);
  });

  test("a source that throws leaves its metric out of the scrape, not the scrape out", async () => {
    const registry = new MetricsRegistry();
    registry.counter("fine_total", "Fine.").inc();
    registry.observe("broken", "Broken.", "gauge", () => {
      throw new Error("source down");
    });
    const families = parseExposition(await registry.expose());
    expect(families.has("broken")).toBe(false);
    expect(sampleValue(families, "fine_total")).toBe(1);
  });

  test("refuses what would make an invalid exposition", () => {
    const registry = new MetricsRegistry();
    registry.counter("twice_total", "Once.");
    expect(() => registry.counter("twice_total", "Again.")).toThrow("registered twice");
    expect(() => registry.counter("bad-name", "Dash.")).toThrow("invalid metric name");
    expect(() => registry.counter("ok_total", "Label.", ["bad-label"])).toThrow("invalid label name");
    expect(() => registry.counter("reserved_total", "Label.", ["__name"])).toThrow("invalid label name");
    expect(() => registry.histogram("h", "Le.", ["le"], [1])).toThrow("reserved");
    const counter = registry.counter("down_total", "Down.");
    expect(() => counter.inc([], -1)).toThrow("only goes up");
    const labelled = registry.counter("labelled_total", "Labels.", ["a", "b"]);
    expect(() => labelled.inc(["only-one"])).toThrow("takes labels (a, b)");
  });

  test("the content type names the format version", () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});

describe("the strict parser used by these tests", () => {
  // A parser that accepts everything would make every exposition test pass.
  test("rejects a split family, a sample before TYPE, bad escapes and broken histograms", () => {
    expect(() => parseExposition("a 1\nb 1\na 2\n")).toThrow("split in two");
    expect(() => parseExposition("a 1\n# TYPE a counter\n")).toThrow();
    expect(() => parseExposition('a{x="\\t"} 1\n')).toThrow("bad escape");
    expect(() => parseExposition("a 1")).toThrow("line feed");
    const histogram = (inf: number) =>
      `# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} ${inf}\nh_sum 3\nh_count 3\n`;
    expect(() => parseExposition(histogram(3))).not.toThrow();
    expect(() => parseExposition(histogram(1))).toThrow("not cumulative");
    expect(() => parseExposition(histogram(4))).toThrow("differs from _count");
  });
});
