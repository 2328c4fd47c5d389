/**
 * A strict reader of the Prometheus text exposition format 0.0.4 for the
 * tests: it throws on anything a Prometheus server would refuse or
 * misread (a sample before its TYPE, a family split in two, a bad label
 * escape, histogram buckets that are not cumulative or disagree with
 * `_count`), and returns the samples for assertions.
 */

export interface ParsedSample {
  /** The sample's own name (`x_bucket`, `x_sum`, … for a histogram). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( -?\\d+)?$`);
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  let current: MetricFamily | null = null;

  const open = (name: string): MetricFamily => {
    if (current?.name === name) return current;
    if (closed.has(name) || families.has(name)) throw new Error(`metric family ${name} is split in two`);
    if (current) closed.add(current.name);
    current = { name, type: "untyped", help: "", samples: [] };
    families.set(name, current);
    return current;
  };

  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // a plain comment
      const [, keyword, name, rest] = match;
      if (!new RegExp(`^${NAME}$`).test(name!)) throw new Error(`bad metric name, ${where}`);
      const family = open(name!);
      if (keyword === "TYPE") {
        if (!TYPES.has(rest!)) throw new Error(`unknown type, ${where}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
        family.type = rest!;
      } else {
        family.help = unescapeHelp(rest!);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample, ${where}`);
    const [, sampleName, , labelText, valueText] = match;
    const familyName = familyOf(sampleName!, current);
    const family = open(familyName);
    family.samples.push({
      name: sampleName!,
      labels: labelText ? parseLabels(labelText, where) : {},
      value: parseValue(valueText!, where),
    });
  }
  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

/** The value of one sample; throws when there is none or more than one. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matches = samplesOf(families, name, labels);
  if (matches.length !== 1) {
    throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  }
  return matches[0]!.value;
}

/** The samples of `name` whose labels include `labels`. */
export function samplesOf(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample[] {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ""));
  return (family?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

function familyOf(sampleName: string, current: MetricFamily | null): string {
  if (current?.type === "histogram" && /_(bucket|sum|count)$/.test(sampleName)) {
    const base = sampleName.replace(/_(bucket|sum|count)$/, "");
    if (base === current.name) return base;
  }
  return sampleName;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name || text[i + name.length] !== "=" || text[i + name.length + 1] !== '"') {
      throw new Error(`bad label at ${i}, ${where}`);
    }
    i += name.length + 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value, ${where}`);
      if (c === '"') break;
      if (c === "\n") throw new Error(`raw line feed in a label value, ${where}`);
      if (c === "\\") {
        const next = text[i + 1];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`bad escape \\${next} in a label value, ${where}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    if (name in labels) throw new Error(`label ${name} given twice, ${where}`);
    labels[name] = value;
    i++; // the closing quote
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`expected , after a label, ${where}`);
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw new Error(`bad value, ${where}`);
  return value;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([parseValue(le, family.name), sample.value]);
    } else if (sample.name === `${family.name}_sum`) entry.sum = sample.value;
    else if (sample.name === `${family.name}_count`) entry.count = sample.value;
    else throw new Error(`${family.name}: unexpected sample ${sample.name}`);
  }
  for (const [key, { buckets, sum, count }] of series) {
    const where = `${family.name}${key}`;
    if (sum === undefined || count === undefined) throw new Error(`${where}: _sum or _count missing`);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]![0] <= buckets[i - 1]![0]) throw new Error(`${where}: buckets out of order`);
      if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`);
    }
    const last = buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${where}: no +Inf bucket`);
    if (last[1] !== count) throw new Error(`${where}: +Inf bucket ${last[1]} differs from _count ${count}`);
  }
}
