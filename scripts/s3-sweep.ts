/**
 * Runs the orphan sweep once against the configured bucket and database:
 * removes content objects no schema row references (older than the grace
 * period) and staging uploads never registered (older than the upload expiry).
 *
 *   bun scripts/s3-sweep.ts [--dry-run] [--grace 1h] [--upload-expiry 1h] [--json] [--config file.toml]
 *
 * Reads the server's configuration (S3_* and DATABASE_URL, or the TOML file);
 * it needs a PostgreSQL DATABASE_URL. It sweeps the way the server's periodic
 * sweep does (ObjectContentStore.sweep): references are the backend's
 * `contentKeysReferenced` (`schemas.content_key`, soft-deleted rows included),
 * and each removal runs under the content key's lock with the check repeated,
 * so it is safe beside running servers.
 */

import { s3ConfigFromApp } from "../src/app/config/s3-config.ts";
import { createObjectContentStore } from "../src/content/object-content-store.ts";
import type { SweepReport } from "../src/content/orphan-sweep.ts";
import { createLogger } from "../src/observability/logger.ts";
import { contentKeyGuard } from "../src/storage/content-key-locks.ts";
import { createPool } from "../src/storage/postgres/pool.ts";
import { createPostgresStorage } from "../src/storage/postgres/postgres-storage.ts";
import { loadScriptConfig } from "./lib/script-config.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `90s`, `15m`, `1h`, `2d`; a bare number is seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 90s, 15m, 1h, 2d)`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "s"]!);
}

export interface SweepArgs {
  dryRun: boolean;
  /** null: S3_SWEEP_GRACE_SECONDS. */
  graceMs: number | null;
  /** null: S3_UPLOAD_EXPIRY_SECONDS. */
  uploadExpiryMs: number | null;
  json: boolean;
}

export function parseSweepArgs(argv: string[]): SweepArgs {
  const args: SweepArgs = {
    dryRun: false,
    graceMs: null,
    uploadExpiryMs: null,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--config") i++;
    else if (arg?.startsWith("--config=")) continue;
    else if (arg === "--dry-run") args.dryRun = true;
    else if (arg === "--json") args.json = true;
    else if (arg === "--grace") args.graceMs = parseDuration(value());
    else if (arg === "--upload-expiry") args.uploadExpiryMs = parseDuration(value());
    else
      throw new Error(
        `unknown argument ${arg}; usage: s3-sweep [--dry-run] [--grace 1h] [--upload-expiry 1h] [--json]`,
      );
  }
  return args;
}

export function formatSweepReport(report: SweepReport): string {
  const verb = report.dryRun ? "would delete" : "deleted";
  return [
    `${report.dryRun ? "DRY RUN: " : ""}scanned ${report.scanned} objects in ${report.durationMs} ms`,
    `  content objects: ${report.contentObjects} (${report.referenced} referenced, ${report.keptRecent} unreferenced but within the grace period)`,
    `  orphans ${verb}: ${report.orphansDeleted} (${report.orphanBytesDeleted} bytes)`,
    `  staging uploads: ${report.uploads} (${verb} ${report.uploadsExpired} expired, kept ${report.uploadsKept})`,
    `  other objects under the prefix, left alone: ${report.foreign}`,
    ...(report.failed > 0 ? [`  FAILED deletions: ${report.failed} (the next sweep retries them)`] : []),
  ].join("\n");
}

async function main(): Promise<number> {
  const args = parseSweepArgs(process.argv.slice(2));
  const appConfig = await loadScriptConfig();
  if (!appConfig.storage.s3) {
    console.error("S3_BUCKET is not set: there is no object store to sweep.");
    return 1;
  }
  const databaseUrl = appConfig.storage.databaseUrl;
  if (!databaseUrl || !/^postgres(ql)?:/.test(databaseUrl)) {
    console.error(
      "DATABASE_URL must name the PostgreSQL database: without it the sweep cannot tell referenced objects from orphans.",
    );
    return 1;
  }
  const logger = createLogger("warn", (line) => console.error(line));
  const pool = createPool(databaseUrl, {
    ...appConfig.storage.pool,
    maxConnections: 2,
    applicationName: "schema-registry-sweep",
  });
  const backend = createPostgresStorage(pool, {
    log: { error: (message, error) => logger.error(message, { error }) },
  });
  try {
    const tier = await createObjectContentStore(s3ConfigFromApp(appConfig), {
      guard: contentKeyGuard(backend),
      logger,
    });
    try {
      const report = await tier.sweep({
        dryRun: args.dryRun,
        ...(args.graceMs !== null ? { graceMs: args.graceMs } : {}),
        ...(args.uploadExpiryMs !== null ? { uploadExpiryMs: args.uploadExpiryMs } : {}),
      });
      console.log(args.json ? JSON.stringify(report) : formatSweepReport(report));
      return report.failed > 0 ? 1 : 0;
    } finally {
      await tier.close();
    }
  } finally {
    await backend.close();
  }
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
