/**
 * The orphan sweep: removes content objects that no schema row references and
 * staging uploads that were never registered. It only touches keys of the
 * registry's own shapes under the prefix (see content-keys.ts); anything else
 * there is counted as `foreign` and left alone.
 *
 * Safety against a concurrent register: an object is removed only when it is
 * older than the grace period both when listed and when looked at again right
 * before deletion. A register that reuses an old object rewrites it first
 * (ContentBucket.putContent), which makes it young again. The registry
 * closes the last gap with `guardRemoval`: each removal runs under its lock on
 * the key with the reference check repeated (see object-content-store.ts).
 */
import { classifyKey } from "./content-keys.ts";
import type { ObjectInfo, ObjectStore } from "./object-store.ts";

export const SWEEP_DEFAULTS = {
  /** Objects younger than this are never removed: their row may not be committed yet. */
  graceMs: 60 * 60 * 1000,
  /** Staging uploads older than this are expired (the presigned PUT lifetime). */
  uploadExpiryMs: 60 * 60 * 1000,
  /** Keys handed to `isReferenced` at once. */
  batchSize: 500,
  /** Deletions in flight at once. */
  concurrency: 8,
} as const;

export interface SweepOptions {
  store: ObjectStore;
  /** Of the given content keys, the ones some schema row (deleted or not) still points at. */
  isReferenced(keys: string[]): Promise<Set<string>>;
  graceMs?: number;
  uploadExpiryMs?: number;
  /**
   * Wraps the removal of one content object, e.g. to hold a lock on its key and
   * check again that no row references it; answers whether it was removed.
   * Without it the batch's reference check stands.
   */
  guardRemoval?(key: string, remove: () => Promise<boolean>): Promise<boolean>;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  batchSize?: number;
  concurrency?: number;
  now?: () => number;
}

export interface SweepReport {
  dryRun: boolean;
  /** Objects listed under the prefix. */
  scanned: number;
  contentObjects: number;
  referenced: number;
  /** Unreferenced but younger than the grace period. */
  keptRecent: number;
  orphansDeleted: number;
  orphanBytesDeleted: number;
  uploads: number;
  uploadsExpired: number;
  uploadsKept: number;
  foreign: number;
  /** Deletions that failed; the next sweep retries them. */
  failed: number;
  durationMs: number;
}

export async function sweepOrphans(options: SweepOptions): Promise<SweepReport> {
  const {
    store,
    isReferenced,
    graceMs = SWEEP_DEFAULTS.graceMs,
    uploadExpiryMs = SWEEP_DEFAULTS.uploadExpiryMs,
    dryRun = false,
    batchSize = SWEEP_DEFAULTS.batchSize,
    concurrency = SWEEP_DEFAULTS.concurrency,
    now = Date.now,
    guardRemoval,
  } = options;
  const started = now();
  const report: SweepReport = {
    dryRun,
    scanned: 0,
    contentObjects: 0,
    referenced: 0,
    keptRecent: 0,
    orphansDeleted: 0,
    orphanBytesDeleted: 0,
    uploads: 0,
    uploadsExpired: 0,
    uploadsKept: 0,
    foreign: 0,
    failed: 0,
    durationMs: 0,
  };
  const olderThan = (info: ObjectInfo, ms: number) => now() - info.lastModified.getTime() >= ms;

  /** Looks at the object again: it may have been rewritten (made young) since it was listed. */
  const removeIfStillOld = async (info: ObjectInfo, ageMs: number): Promise<boolean> => {
    const current = await store.head(info.key);
    if (!current) return false;
    if (!olderThan(current, ageMs)) return false;
    if (!dryRun) await store.delete(info.key);
    return true;
  };

  const runLimited = async (items: ObjectInfo[], work: (info: ObjectInfo) => Promise<void>) => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        try {
          await work(item);
        } catch {
          report.failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  };

  const sweepContentBatch = async (batch: ObjectInfo[]) => {
    const old = batch.filter((info) => olderThan(info, graceMs));
    report.keptRecent += batch.length - old.length;
    if (old.length === 0) return;
    const referenced = await isReferenced(old.map((info) => info.key));
    const orphans = old.filter((info) => !referenced.has(info.key));
    report.referenced += old.length - orphans.length;
    await runLimited(orphans, async (info) => {
      const remove = () => removeIfStillOld(info, graceMs);
      const removed = guardRemoval && !dryRun ? await guardRemoval(info.key, remove) : await remove();
      if (removed) {
        report.orphansDeleted++;
        report.orphanBytesDeleted += info.size;
      } else {
        report.keptRecent++;
      }
    });
  };

  let batch: ObjectInfo[] = [];
  const expiredUploads: ObjectInfo[] = [];
  for await (const info of store.list(store.prefix)) {
    report.scanned++;
    const kind = classifyKey(store.prefix, info.key);
    if (kind === "foreign") {
      report.foreign++;
    } else if (kind === "upload") {
      report.uploads++;
      if (olderThan(info, uploadExpiryMs)) expiredUploads.push(info);
      else report.uploadsKept++;
    } else {
      report.contentObjects++;
      batch.push(info);
      if (batch.length >= batchSize) {
        await sweepContentBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length > 0) await sweepContentBatch(batch);

  await runLimited(expiredUploads, async (info) => {
    if (await removeIfStillOld(info, uploadExpiryMs)) report.uploadsExpired++;
    else report.uploadsKept++;
  });

  report.durationMs = now() - started;
  return report;
}
