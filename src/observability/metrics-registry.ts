/**
 * A small Prometheus metrics registry and its text exposition (format 0.0.4).
 *
 * Ours rather than prom-client: prom-client's default metrics and its cluster
 * support reach for Node built-ins (`cluster`, `v8`, `perf_hooks`), which the
 * code under src/ keeps out, and the registry needs only counters, gauges,
 * fixed-bucket histograms and values read at scrape time from the stats
 * snapshots the cache and the object store already keep. This is a couple of
 * hundred lines of web-standard code that serves the same on Bun and Deno.
 *
 * Two kinds of metric:
 * - instruments (`counter`, `gauge`, `histogram`) updated as things happen;
 * - observed metrics (`observe`) whose samples a callback reads at scrape
 *   time, for figures another component counts already: reading them then
 *   never counts an event twice.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "histogram";

/** Label values in the order of the metric's label names. */
export type LabelValues = readonly string[];

export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Seconds: from half a millisecond (an L1-fast query) to ten seconds (a timeout). */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Bytes: 1 MiB (the default S3_MIN_SIZE_BYTES) to 1 GiB, by powers of two. */
export const SIZE_BUCKETS: readonly number[] = Array.from({ length: 11 }, (_, i) => 2 ** (20 + i));

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Lines of samples, without HELP and TYPE. */
  render(): string[];
}

abstract class Instrument<Child> implements Metric {
  abstract readonly type: MetricType;
  private readonly children = new Map<string, { values: LabelValues; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(): Child;

  protected child(values: LabelValues): Child {
    if (values.length !== this.labelNames.length) {
      throw new Error(
        `${this.name} takes labels (${this.labelNames.join(", ")}), got ${values.length} values`,
      );
    }
    // \u0001 cannot appear in a label value we choose, and is cheap to join.
    const key = values.join("\u0001");
    let entry = this.children.get(key);
    if (!entry) {
      entry = { values: [...values], child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected entries(): Iterable<{ values: LabelValues; child: Child }> {
    return this.children.values();
  }

  abstract render(): string[];
}

export class Counter extends Instrument<{ value: number }> {
  readonly type = "counter";

  protected create() {
    return { value: 0 };
  }

  inc(labels: LabelValues = [], amount = 1): void {
    if (!(amount >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${amount})`);
    this.child(labels).value += amount;
  }

  /** The current value for these labels; 0 when never counted. */
  get(labels: LabelValues = []): number {
    return this.child(labels).value;
  }

  /** The value cell of these labels, resolved once: for hot paths (`cell.value += 1`, never down). */
  bind(labels: LabelValues): { value: number } {
    return this.child(labels);
  }

  render(): string[] {
    return [...this.entries()].map(
      ({ values, child }) => `${this.name}${labelText(this.labelNames, values)} ${formatValue(child.value)}`,
    );
  }
}

export class Gauge extends Instrument<{ value: number }> {
  readonly type = "gauge";

  protected create() {
    return { value: 0 };
  }

  set(labels: LabelValues, value: number): void {
    this.child(labels).value = value;
  }

  add(labels: LabelValues, amount: number): void {
    this.child(labels).value += amount;
  }

  /** The value cell of these labels, resolved once: for hot paths (`cell.value += 1`). */
  bind(labels: LabelValues): { value: number } {
    return this.child(labels);
  }

  get(labels: LabelValues = []): number {
    return this.child(labels).value;
  }

  render(): string[] {
    return [...this.entries()].map(
      ({ values, child }) => `${this.name}${labelText(this.labelNames, values)} ${formatValue(child.value)}`,
    );
  }
}

interface HistogramChild {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Instrument<HistogramChild> {
  readonly type = "histogram";
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new Error(`${name}: "le" is reserved for histogram buckets`);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || new Set(sorted).size !== sorted.length) {
      throw new Error(`${name}: buckets must be distinct and not empty`);
    }
    this.buckets = sorted;
  }

  protected create(): HistogramChild {
    return { counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: LabelValues, value: number): void {
    this.record(this.child(labels), value);
  }

  /** An observer of these labels, resolved once: for hot paths that observe the same series again and again. */
  bind(labels: LabelValues): (value: number) => void {
    const child = this.child(labels);
    return (value) => this.record(child, value);
  }

  private record(child: HistogramChild, value: number): void {
    // Buckets are few (about a dozen): a linear scan beats a binary search here.
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    child.counts[i]!++;
    child.sum += value;
    child.count++;
  }

  /** Count and sum for these labels (for tests and /stats-like readers). */
  get(labels: LabelValues = []): { count: number; sum: number } {
    const { count, sum } = this.child(labels);
    return { count, sum };
  }

  render(): string[] {
    const lines: string[] = [];
    for (const { values, child } of this.entries()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += child.counts[i]!;
        const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : "+Inf";
        lines.push(
          `${this.name}_bucket${labelText([...this.labelNames, "le"], [...values, le])} ${cumulative}`,
        );
      }
      const labels = labelText(this.labelNames, values);
      lines.push(`${this.name}_sum${labels} ${formatValue(child.sum)}`);
      lines.push(`${this.name}_count${labels} ${child.count}`);
    }
    return lines;
  }
}

class ObservedMetric implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    private readonly read: () => Iterable<Sample>,
  ) {}

  render(): string[] {
    const lines: string[] = [];
    for (const sample of this.read()) {
      const names = Object.keys(sample.labels);
      for (const label of names) checkLabelName(this.name, label);
      lines.push(
        `${this.name}${labelText(
          names,
          names.map((n) => sample.labels[n]!),
        )} ${formatValue(sample.value)}`,
      );
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly beforeScrape: (() => void | Promise<void>)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, checkLabels(name, labelNames)));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, checkLabels(name, labelNames)));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.add(new Histogram(name, help, checkLabels(name, labelNames), buckets));
  }

  /**
   * A metric whose samples are read when scraped. An empty iterable leaves
   * the metric out of the exposition (HELP and TYPE included), which is how
   * a tier that is not configured stays out of it.
   */
  observe(name: string, help: string, type: "counter" | "gauge", read: () => Iterable<Sample>): void {
    this.add(new ObservedMetric(name, help, type, read));
  }

  /** Runs before every scrape: for figures that must be fetched (awaited) first. */
  onScrape(refresh: () => void | Promise<void>): void {
    this.beforeScrape.push(refresh);
  }

  has(name: string): boolean {
    return this.metrics.has(name);
  }

  /** Name, type and help of every metric, for documentation. */
  describe(): { name: string; type: MetricType; help: string }[] {
    return [...this.metrics.values()].map(({ name, type, help }) => ({ name, type, help }));
  }

  /** The text exposition of every metric, in registration order. */
  async expose(): Promise<string> {
    await Promise.all(this.beforeScrape.map((refresh) => refresh()));
    const out: string[] = [];
    for (const metric of this.metrics.values()) {
      let samples: string[];
      try {
        samples = metric.render();
      } catch {
        // One broken source must not take the whole scrape down with it.
        continue;
      }
      if (samples.length === 0) continue;
      out.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
      out.push(...samples);
    }
    return out.length === 0 ? "" : `${out.join("\n")}\n`;
  }

  private add<M extends Metric>(metric: M): M {
    if (!METRIC_NAME.test(metric.name)) throw new Error(`invalid metric name ${JSON.stringify(metric.name)}`);
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}

function checkLabels(metric: string, labelNames: readonly string[]): readonly string[] {
  for (const label of labelNames) checkLabelName(metric, label);
  if (new Set(labelNames).size !== labelNames.length) throw new Error(`${metric}: a label is named twice`);
  return labelNames;
}

function checkLabelName(metric: string, label: string): void {
  if (!LABEL_NAME.test(label) || label.startsWith("__")) {
    throw new Error(`${metric}: invalid label name ${JSON.stringify(label)}`);
  }
}

function labelText(names: readonly string[], values: LabelValues): string {
  if (names.length === 0) return "";
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? "")}"`);
  return `{${pairs.join(",")}}`;
}

/** Exposition format 0.0.4: backslash, double quote and line feed are escaped in label values. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
