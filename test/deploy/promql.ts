/**
 * What the deploy tests need to read PromQL and the registry's metrics: the
 * metric names a query selects (a loose reading: names that are neither a
 * function, a keyword, a label inside `{…}` or `by (…)`, nor a Grafana
 * variable), the names a running registry exports, and promtool.
 *
 * Loose on purpose: the point is to catch a panel or a rule that names a
 * metric the server does not have (a typo, a renamed metric), not to parse
 * PromQL; promtool checks the syntax.
 */
import { existsSync } from "node:fs";

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
]);

/** Metrics Prometheus makes itself for every target; a rule may name them. */
export const PROMETHEUS_OWN = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

/** The metric names an expression selects. */
export function metricNames(expr: string): Set<string> {
  let text = expr
    // Grafana's label_values(metric, label): the second argument is a label.
    .replace(/label_values\(\s*([^,)]+?)\s*,\s*\w+\s*\)/g, " $1 ")
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  // Numbers with exponents or units (1e3, 5m) are not names.
  text = text.replace(/\b\d[\w.]*/g, " ");
  const names = new Set<string>();
  for (const match of text.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const name = match[1]!;
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return names;
}

export interface ExportedMetric {
  name: string;
  type: string;
}

/**
 * Whether `name` is one of `exported` (a histogram's `_bucket`, `_sum` and
 * `_count` series count as their histogram) or Prometheus' own.
 */
export function isExported(name: string, exported: readonly ExportedMetric[]): boolean {
  if (PROMETHEUS_OWN.has(name)) return true;
  return exported.some(
    (metric) =>
      metric.name === name ||
      (metric.type === "histogram" &&
        ["_bucket", "_sum", "_count"].some((suffix) => name === metric.name + suffix)),
  );
}

/** Where promtool is, or null; in CI a missing promtool fails the suite rather than skipping it. */
export function findPromtool(): string | null {
  const path = Bun.which("promtool") ?? (existsSync("/usr/bin/promtool") ? "/usr/bin/promtool" : null);
  if (path) return path;
  if (process.env.CI === "true") {
    throw new Error(
      "promtool is not installed; in CI it must be (apt-get install -y prometheus, see .ci/run)",
    );
  }
  console.warn(
    [
      "",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      "!! promtool is not installed: SKIPPING the promtool checks of deploy/prometheus.",
      "!! apt-get install -y prometheus to run them (CI never skips).",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      "",
    ].join("\n"),
  );
  return null;
}

/** Runs promtool; resolves with its exit code and output. */
export async function promtool(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  const child = Bun.spawn([binary, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, output: stdout + stderr };
}
