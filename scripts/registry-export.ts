/**
 * Exports a schema registry through Confluent's REST API, so it works against
 * any Confluent-compatible registry (Confluent's own, this one, others):
 *
 *   bun scripts/registry-export.ts --url http://registry:8081 [--out registry.jsonl] [--auth user:pass]
 *
 * Writes JSON Lines (to stdout without --out), one object a line:
 *
 *   {"kind":"header","format":"schema-registry-export","formatVersion":1,"exportedAt":…}
 *   {"kind":"schema","subject","version","id","schemaType","schema","references","deleted"?}
 *   {"kind":"config","subject"?,"compatibilityLevel",…}   global (no subject), then per subject
 *   {"kind":"mode","subject"?,"mode"}                       global (no subject), then per subject
 *
 * Every subject version is exported, soft-deleted ones too (`"deleted":true`);
 * permanently deleted ones no longer exist to be read. The schema lines come
 * in an order that scripts/registry-import.ts can replay as it reads: a
 * version after the versions it references and after its subject's earlier
 * versions, otherwise by ascending id. Progress goes to stderr. The exit code
 * is 1 when the registry could not be read, 2 on a usage error.
 */

import { createWriteStream } from "node:fs";
import { parseScriptArgs } from "./lib/script-args.ts";

// ---------------------------------------------------------------- the file's lines

export const EXPORT_FORMAT = "schema-registry-export";
export const EXPORT_FORMAT_VERSION = 1;

export interface Reference {
  name: string;
  subject: string;
  version: number;
}

export interface HeaderLine {
  kind: "header";
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  exportedAt: string;
}

export interface SchemaLine {
  kind: "schema";
  subject: string;
  version: number;
  id: number;
  /** Always written out: Confluent omits it for Avro, which a reader of the file should not have to know. */
  schemaType: string;
  schema: string;
  references: Reference[];
  deleted?: true;
}

export interface ConfigLine {
  kind: "config";
  /** Absent for the global setting. */
  subject?: string;
  compatibilityLevel: string;
  /** Whatever else the registry's config holds (normalize, alias, …), kept for a registry that knows it. */
  [field: string]: unknown;
}

export interface ModeLine {
  kind: "mode";
  subject?: string;
  mode: string;
}

export type ExportLine = HeaderLine | SchemaLine | ConfigLine | ModeLine;

// ---------------------------------------------------------------- talking to a registry

export class UsageError extends Error {}

/** A Confluent error answer: the HTTP status and Confluent's own code (40401, 40408, …). */
export class RegistryError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly errorCode: number | null,
    detail: string,
  ) {
    super(`${method} ${path} answered ${status}${errorCode === null ? "" : ` (${errorCode})`}: ${detail}`);
  }
}

export interface RegistryClient {
  readonly url: string;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The answer, or null when the registry answered 404 with one of `codes` (a setting not configured, …). */
  callOrNull<T = unknown>(method: string, path: string, codes: number[]): Promise<T | null>;
}

const MEDIA_TYPE = "application/vnd.schemaregistry.v1+json";
const ATTEMPTS = 4;

/** `user:pass` for HTTP Basic, as Confluent's clients take it (basic.auth.user.info). */
export function registryClient(url: string, auth?: string): RegistryClient {
  const base = url.replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(base)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  const headers: Record<string, string> = { Accept: `${MEDIA_TYPE}, application/json` };
  if (auth !== undefined) {
    if (!auth.includes(":")) throw new UsageError("--auth is user:password");
    headers.Authorization = `Basic ${Buffer.from(auth).toString("base64")}`;
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: body === undefined ? headers : { ...headers, "Content-Type": MEDIA_TYPE },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        // A dropped connection or a restarting registry: worth another try, then the reason.
        if (attempt < ATTEMPTS) {
          await Bun.sleep(200 * 2 ** attempt);
          continue;
        }
        throw new RegistryError(
          method,
          path,
          0,
          null,
          error instanceof Error ? error.message : String(error),
        );
      }
      const text = await response.text();
      if (response.ok) return (text.length > 0 ? JSON.parse(text) : null) as T;
      // Overload and server faults pass; a 4xx is the registry's answer and retrying changes nothing.
      if ((response.status >= 500 || response.status === 429) && attempt < ATTEMPTS) {
        await Bun.sleep(200 * 2 ** attempt);
        continue;
      }
      let errorCode: number | null = null;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
        if (typeof parsed.error_code === "number") errorCode = parsed.error_code;
        if (typeof parsed.message === "string") message = parsed.message;
      } catch {}
      throw new RegistryError(method, path, response.status, errorCode, message);
    }
  };

  return {
    url: base,
    call,
    async callOrNull<T>(method: string, path: string, codes: number[]) {
      try {
        return await call<T>(method, path);
      } catch (error) {
        // A 404 without Confluent's body (a registry without the endpoint) matches when 404 is among `codes`.
        if (
          error instanceof RegistryError &&
          error.status === 404 &&
          codes.includes(error.errorCode ?? 404)
        ) {
          return null;
        }
        throw error;
      }
    },
  };
}

export const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

/** Runs `work` over `items` with at most `limit` at a time, answers in the items' order. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One line of progress on stderr: rewritten in place on a terminal, a line every so often in a log. */
export function progressReporter(label: string): (done: number, total: number, force?: boolean) => void {
  const tty = process.stderr.isTTY === true;
  let lastLogged = 0;
  return (done, total, force = false) => {
    const text = `${label}: ${done}/${total}`;
    if (tty) {
      process.stderr.write(`\r${text}${done === total ? "\n" : ""}`);
    } else if (force || done === total || Date.now() - lastLogged > 2000) {
      lastLogged = Date.now();
      process.stderr.write(`${text}\n`);
    }
  };
}

// ---------------------------------------------------------------- the replay order

const key = (subject: string, version: number) => `${version} ${subject}`;

/**
 * Orders schema lines so that each comes after what it references and after
 * its subject's earlier versions (an import registering them in this order
 * never meets a reference it has not written yet), otherwise by ascending id,
 * then subject and version. Throws on a reference cycle; a reference to a
 * version the export does not hold (permanently deleted) orders as if absent.
 */
export function replayOrder(lines: SchemaLine[]): SchemaLine[] {
  const byKey = new Map(lines.map((line) => [key(line.subject, line.version), line]));
  const dependents = new Map<SchemaLine, SchemaLine[]>();
  const waitingOn = new Map<SchemaLine, number>();
  const bySubject = new Map<string, SchemaLine[]>();
  for (const line of lines) {
    const versions = bySubject.get(line.subject) ?? [];
    versions.push(line);
    bySubject.set(line.subject, versions);
  }
  const depend = (line: SchemaLine, on: SchemaLine | undefined) => {
    if (on === undefined || on === line) return;
    dependents.set(on, [...(dependents.get(on) ?? []), line]);
    waitingOn.set(line, (waitingOn.get(line) ?? 0) + 1);
  };
  for (const versions of bySubject.values()) {
    versions.sort((a, b) => a.version - b.version);
    for (let i = 1; i < versions.length; i++) depend(versions[i]!, versions[i - 1]);
  }
  for (const line of lines) {
    for (const reference of line.references)
      depend(line, byKey.get(key(reference.subject, reference.version)));
  }

  const before = (a: SchemaLine, b: SchemaLine) =>
    a.id - b.id || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0) || a.version - b.version;
  const ready = lines.filter((line) => !waitingOn.has(line)).sort(before);
  const ordered: SchemaLine[] = [];
  while (ready.length > 0) {
    const line = ready.shift()!;
    ordered.push(line);
    for (const dependent of dependents.get(line) ?? []) {
      const left = waitingOn.get(dependent)! - 1;
      waitingOn.set(dependent, left);
      if (left > 0) continue;
      // Keep `ready` sorted: find where the newly ready line belongs.
      let low = 0;
      let high = ready.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (before(ready[middle]!, dependent) < 0) low = middle + 1;
        else high = middle;
      }
      ready.splice(low, 0, dependent);
    }
  }
  if (ordered.length !== lines.length) {
    const stuck = lines.filter((line) => !ordered.includes(line)).map((l) => `${l.subject} v${l.version}`);
    throw new Error(`the references form a cycle through ${stuck.join(", ")}`);
  }
  return ordered;
}

// ---------------------------------------------------------------- reading a registry

interface VersionAnswer {
  subject: string;
  version: number;
  id: number;
  schemaType?: string;
  schema: string;
  references?: Reference[];
}

type ConfigAnswer = { compatibilityLevel?: string; compatibility?: string } & Record<string, unknown>;

export interface ExportSummary {
  subjects: number;
  versions: number;
  deleted: number;
  configs: number;
  modes: number;
}

/** Reads everything the registry holds and hands each line to `write`, in the file's order. */
export async function exportRegistry(
  client: RegistryClient,
  write: (line: ExportLine) => void | Promise<void>,
  options: { concurrency?: number; progress?: (done: number, total: number) => void } = {},
): Promise<ExportSummary> {
  const concurrency = options.concurrency ?? 8;
  const subjects = (await client.call<string[]>("GET", "/subjects?deleted=true")).sort();

  // Each subject's versions, soft-deleted ones included, and which of them are live.
  const listed = await mapLimit(subjects, concurrency, async (subject) => {
    const all = await client.call<number[]>("GET", `${subjectPath(subject)}/versions?deleted=true`);
    // A subject whose every version is soft-deleted has no live list at all: 40401.
    const live =
      (await client.callOrNull<number[]>("GET", `${subjectPath(subject)}/versions`, [40401])) ?? [];
    return all.map((version) => ({ subject, version, deleted: !live.includes(version) }));
  });
  const wanted = listed.flat();

  let done = 0;
  const schemaLines = await mapLimit(wanted, concurrency, async ({ subject, version, deleted }) => {
    const answer = await client.call<VersionAnswer>(
      "GET",
      `${subjectPath(subject)}/versions/${version}?deleted=true`,
    );
    options.progress?.(++done, wanted.length);
    const line: SchemaLine = {
      kind: "schema",
      subject,
      version: answer.version,
      id: answer.id,
      schemaType: answer.schemaType ?? "AVRO",
      schema: answer.schema,
      references: answer.references ?? [],
    };
    if (deleted) line.deleted = true;
    return line;
  });

  await write({
    kind: "header",
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
  });
  for (const line of replayOrder(schemaLines)) await write(line);

  const configLine = (answer: ConfigAnswer, subject?: string): ConfigLine => {
    const { compatibilityLevel, compatibility, ...rest } = answer;
    return {
      kind: "config",
      ...(subject === undefined ? {} : { subject }),
      compatibilityLevel: String(compatibilityLevel ?? compatibility),
      ...rest,
    };
  };
  let configs = 0;
  let modes = 0;
  await write(configLine(await client.call<ConfigAnswer>("GET", "/config")));
  configs++;
  const subjectConfigs = await mapLimit(subjects, concurrency, (subject) =>
    client.callOrNull<ConfigAnswer>("GET", `/config/${encodeURIComponent(subject)}`, [40401, 40408]),
  );
  for (const [index, answer] of subjectConfigs.entries()) {
    if (answer === null) continue;
    await write(configLine(answer, subjects[index]));
    configs++;
  }

  // Modes are optional in the API (some compatible registries have none): a 404 there is no mode to copy.
  const globalMode = await client.callOrNull<{ mode: string }>("GET", "/mode", [404, 40401, 40409]);
  if (globalMode !== null) {
    await write({ kind: "mode", mode: globalMode.mode });
    modes++;
    const subjectModes = await mapLimit(subjects, concurrency, (subject) =>
      client.callOrNull<{ mode: string }>("GET", `/mode/${encodeURIComponent(subject)}`, [40401, 40409]),
    );
    for (const [index, answer] of subjectModes.entries()) {
      if (answer === null) continue;
      await write({ kind: "mode", subject: subjects[index]!, mode: answer.mode });
      modes++;
    }
  }

  return {
    subjects: subjects.length,
    versions: schemaLines.length,
    deleted: schemaLines.filter((line) => line.deleted).length,
    configs,
    modes,
  };
}

// ---------------------------------------------------------------- the command

const USAGE = "usage: bun scripts/registry-export.ts --url <registry> [--out file.jsonl] [--auth user:pass]";

async function main(argv: string[]): Promise<number> {
  const args = parseScriptArgs(
    argv,
    { url: { type: "string" }, out: { type: "string" }, auth: { type: "string" } },
    USAGE,
  );
  if ("exitCode" in args) return args.exitCode;
  const { values } = args;
  if (!values.url) {
    console.error(`--url is required\n${USAGE}`);
    return 2;
  }
  let client: RegistryClient;
  try {
    client = registryClient(values.url, values.auth);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  const out = values.out ? createWriteStream(values.out) : process.stdout;
  const write = (line: ExportLine) =>
    new Promise<void>((resolve, reject) => {
      out.write(`${JSON.stringify(line)}\n`, (error) => (error ? reject(error) : resolve()));
    });
  try {
    const summary = await exportRegistry(client, write, {
      progress: progressReporter("export: versions read"),
    });
    if (out !== process.stdout)
      await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
    console.error(
      `exported ${summary.versions} versions (${summary.deleted} soft-deleted) of ${summary.subjects} subjects, ` +
        `${summary.configs} compatibility settings and ${summary.modes} modes from ${client.url}` +
        (values.out ? ` to ${values.out}` : ""),
    );
    return 0;
  } catch (error) {
    console.error(`export failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
