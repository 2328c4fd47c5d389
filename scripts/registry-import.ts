/**
 * Imports a file written by scripts/registry-export.ts into a registry,
 * through Confluent's REST API, keeping every schema id and version number:
 *
 *   bun scripts/registry-import.ts --url http://registry:8081 --in registry.jsonl [--auth user:pass] [--force]
 *
 * It puts the target in IMPORT mode (PUT /mode), registers each version with
 * its own id and version (POST /subjects/{s}/versions with `id` and `version`
 * in the body, as Confluent's IMPORT mode takes them) in the file's order,
 * puts the mode back to READWRITE, soft-deletes the versions the source had
 * soft-deleted, then restores compatibility settings and modes (the global
 * mode last, as the source had it). A target that already holds subjects is
 * refused unless --force is given (which also passes `force=true` to the mode
 * change, as Confluent requires then). There, a version the target already
 * holds with the same id is left as it is, so an import that stopped half way
 * can be run again; one held with another id stops the import.
 *
 * Exit codes: 0 done, 1 the import failed (the line and the registry's answer
 * are printed; the target is put back in READWRITE), 2 a usage error or a
 * file that is not an export.
 */
import { parseScriptArgs } from "./lib/script-args.ts";
import {
  type ConfigLine,
  EXPORT_FORMAT,
  type ExportLine,
  type ModeLine,
  progressReporter,
  type RegistryClient,
  RegistryError,
  registryClient,
  type SchemaLine,
  subjectPath,
  UsageError,
} from "./registry-export.ts";

export interface ParsedExport {
  schemas: SchemaLine[];
  configs: ConfigLine[];
  modes: ModeLine[];
}

/** Reads an export file's text; throws UsageError naming the line when it is not one. */
export function parseExport(text: string): ParsedExport {
  const parsed: ParsedExport = { schemas: [], configs: [], modes: [] };
  const lines = text.split("\n");
  let sawHeader = false;
  for (const [index, raw] of lines.entries()) {
    if (raw.trim() === "") continue;
    let line: ExportLine;
    try {
      line = JSON.parse(raw) as ExportLine;
    } catch {
      throw new UsageError(`line ${index + 1} is not JSON: ${raw.slice(0, 80)}`);
    }
    if (!sawHeader) {
      if (line.kind !== "header" || line.format !== EXPORT_FORMAT) {
        throw new UsageError(`line 1 is not the header of a registry export (${EXPORT_FORMAT})`);
      }
      sawHeader = true;
      continue;
    }
    if (line.kind === "schema") {
      if (
        typeof line.subject !== "string" ||
        !Number.isInteger(line.version) ||
        !Number.isInteger(line.id) ||
        typeof line.schema !== "string"
      ) {
        throw new UsageError(`line ${index + 1}: a schema line needs subject, version, id and schema`);
      }
      parsed.schemas.push(line);
    } else if (line.kind === "config") parsed.configs.push(line);
    else if (line.kind === "mode") parsed.modes.push(line);
    else
      throw new UsageError(
        `line ${index + 1}: unknown kind ${JSON.stringify((line as { kind: unknown }).kind)}`,
      );
  }
  if (!sawHeader) throw new UsageError("the file is empty");
  return parsed;
}

export interface ImportSummary {
  versions: number;
  deleted: number;
  subjects: number;
  configs: number;
  modes: number;
}

export interface ImportOptions {
  force?: boolean;
  progress?: (done: number, total: number) => void;
  log?: (message: string) => void;
}

export async function importRegistry(
  client: RegistryClient,
  data: ParsedExport,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const log = options.log ?? (() => {});
  const existing = await client.call<string[]>("GET", "/subjects?deleted=true");
  if (existing.length > 0 && !options.force) {
    const named = existing.slice(0, 5).join(", ") + (existing.length > 5 ? ", …" : "");
    throw new UsageError(
      `${client.url} already holds ${existing.length} subject(s) (${named}); ` +
        "import into an empty registry, or pass --force to import into this one",
    );
  }

  await client.call("PUT", `/mode${options.force ? "?force=true" : ""}`, { mode: "IMPORT" });
  log(`${client.url} is in IMPORT mode`);
  try {
    for (const [index, line] of data.schemas.entries()) {
      options.progress?.(index + 1, data.schemas.length);
      // A target that held subjects may hold this very version already (an earlier run): leave it be.
      // Registering it again would not: a soft-deleted version's content registers as a new version.
      if (existing.length > 0) {
        const held = await client.callOrNull<{ id: number }>(
          "GET",
          `${subjectPath(line.subject)}/versions/${line.version}?deleted=true`,
          [40401, 40402],
        );
        if (held !== null && held.id === line.id) continue;
        if (held !== null) {
          throw new Error(
            `${line.subject} version ${line.version} is held by the target with id ${held.id}, not its own ${line.id}`,
          );
        }
      }
      const answer = await client
        .call<{ id: number }>("POST", `${subjectPath(line.subject)}/versions`, {
          schema: line.schema,
          schemaType: line.schemaType,
          references: line.references,
          id: line.id,
          version: line.version,
        })
        .catch((error: unknown) => {
          throw new Error(
            `${line.subject} version ${line.version} (id ${line.id}): ${(error as Error).message}`,
          );
        });
      if (answer.id !== line.id) {
        throw new Error(
          `${line.subject} version ${line.version} was registered with id ${answer.id}, not its own ${line.id}: ` +
            "the target already holds this schema under another id",
        );
      }
    }
  } finally {
    // Never leave the target refusing ordinary writes, whether the import finished or not.
    await client.call("PUT", "/mode", { mode: "READWRITE" });
    log(`${client.url} is back in READWRITE mode`);
  }

  // Referrers first: a version something live still references cannot be deleted.
  const deleted = data.schemas.filter((line) => line.deleted).reverse();
  for (const line of deleted) {
    await client.call("DELETE", `${subjectPath(line.subject)}/versions/${line.version}`).catch((error) => {
      // Already soft-deleted by an earlier run of this import: the state wanted.
      if (error instanceof RegistryError && error.errorCode === 40406) return;
      throw error;
    });
  }

  for (const { kind: _kind, subject, compatibilityLevel, ...rest } of data.configs) {
    const path = subject === undefined ? "/config" : `/config/${encodeURIComponent(subject)}`;
    await client.call("PUT", path, { ...rest, compatibility: compatibilityLevel });
  }

  const globalMode = data.modes.find((line) => line.subject === undefined);
  for (const line of data.modes) {
    if (line.subject === undefined) continue;
    await client.call("PUT", `/mode/${encodeURIComponent(line.subject)}?force=true`, { mode: line.mode });
  }
  // An export taken mid-import says IMPORT; the copy is complete, so it takes writes.
  if (globalMode && globalMode.mode !== "READWRITE" && globalMode.mode !== "IMPORT") {
    await client.call("PUT", "/mode?force=true", { mode: globalMode.mode });
  }

  return {
    versions: data.schemas.length,
    deleted: deleted.length,
    subjects: new Set(data.schemas.map((line) => line.subject)).size,
    configs: data.configs.length,
    modes: data.modes.length,
  };
}

// ---------------------------------------------------------------- the command

const USAGE =
  "usage: bun scripts/registry-import.ts --url <registry> --in <file.jsonl> [--auth user:pass] [--force]";

async function main(argv: string[]): Promise<number> {
  const args = parseScriptArgs(
    argv,
    {
      url: { type: "string" },
      in: { type: "string" },
      auth: { type: "string" },
      force: { type: "boolean", default: false },
    },
    USAGE,
  );
  if ("exitCode" in args) return args.exitCode;
  const { values } = args;
  if (!values.url || !values.in) {
    console.error(`--url and --in are required\n${USAGE}`);
    return 2;
  }
  const started = performance.now();
  try {
    const client = registryClient(values.url, values.auth);
    const file = Bun.file(values.in);
    if (!(await file.exists())) throw new UsageError(`no such file: ${values.in}`);
    const data = parseExport(await file.text());
    const summary = await importRegistry(client, data, {
      force: values.force ?? false,
      progress: progressReporter("import: versions registered"),
      log: (message) => console.error(message),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(
      `imported ${summary.versions} versions (${summary.deleted} soft-deleted) of ${summary.subjects} subjects, ` +
        `${summary.configs} compatibility settings and ${summary.modes} modes into ${client.url} in ${seconds} s`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      console.error(`import refused: ${message}`);
      return 2;
    }
    console.error(`import failed: ${message}`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
