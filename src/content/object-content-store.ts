/**
 * ObjectContentStore: where content lives when an object store is configured
 * (it implements the registry's ContentStore port, uploads included) on a
 * ContentBucket. The composition root builds it only when S3_BUCKET is set,
 * with `await import()`, so a deployment without S3 never loads the SDK.
 *
 * Routing: content of S3_MIN_SIZE_BYTES or more goes to the bucket under its
 * content address (prefix + SHA-256 of the canonical bytes + extension), and
 * its row records key, size and hash; smaller content stays in the row.
 *
 * Nothing dangling, nothing orphaned. One object serves every row with the
 * same content, so it may go only when no row points at it, and a register
 * about to point a row at it must not lose it in between. One PostgreSQL
 * advisory lock per content key settles it:
 * - a register commits its row holding the key's lock SHARED, and checks under
 *   it that the object is there (writing it again if it is not);
 * - every removal (a failed register's discard, a permanent delete's release,
 *   the sweep) holds the lock EXCLUSIVE, checks under it that no row points at
 *   the key, and only then deletes the object.
 * A removal either sees the committed row and keeps the object, or runs first,
 * and the register then finds the object gone and writes it again. The sweep's
 * grace period (it never takes an object younger than that) keeps the second
 * case rare.
 */

import type { ContentLink, PlacedContent, PreparedContent } from "../domain/content.ts";
import { RegistryError } from "../domain/errors.ts";
import type { SchemaRecord, SchemaType } from "../domain/types.ts";
import type { HealthProbe } from "../observability/health.ts";
import type { Logger } from "../observability/logger.ts";
import { backgroundTimeout } from "../runtime/timers.ts";
import type { S3Config } from "./config.ts";
import {
  type ContentBucket,
  type CreateUploadRequest,
  createContentBucket,
  type UploadTicket,
} from "./content-bucket.ts";
import { CONTENT_MEDIA_TYPES } from "./content-keys.ts";
import type { ObjectStoreStats, PingResult } from "./object-store.ts";
import { type SweepReport, sweepOrphans } from "./orphan-sweep.ts";

export interface SweepSchedule {
  /** Between two sweeps of this instance (±10 % jitter, so instances drift apart); 0: never. */
  intervalMs: number;
  /** Unreferenced objects younger than this are kept. */
  graceMs: number;
  /** Staging uploads older than this are removed. */
  uploadExpiryMs: number;
}

/**
 * The database's half of the lock protocol, handed in by the composition
 * root: `Tx` is whatever a transaction gives the row's write (the schema
 * repository inside it).
 */
export interface ContentKeyGuard<Tx> {
  /**
   * Runs `work` in one transaction that holds `key`'s lock (`shared` to commit
   * a row pointing at it, `exclusive` to remove its object) until it ends;
   * `referenced` asks inside that transaction which keys rows point at.
   */
  underLock<T>(
    key: string,
    mode: "shared" | "exclusive",
    work: (tx: Tx, referenced: (keys: readonly string[]) => Promise<Set<string>>) => Promise<T>,
  ): Promise<T>;
  /** Of `keys`, those some row points at, soft-deleted rows included (asked of the primary). */
  referenced(keys: readonly string[]): Promise<Set<string>>;
}

export interface ObjectContentStoreOptions<Tx> {
  store: ContentBucket;
  /** Reference checks and content-key locks. */
  guard: ContentKeyGuard<Tx>;
  /** Content of this many canonical bytes or more goes to the object store. */
  minSizeBytes: number;
  sweep: SweepSchedule;
  logger: Logger;
}

/** The bucket's counters and this store's own, for `/metrics` (read at scrape time). */
export interface ObjectContentStoreStats extends ObjectStoreStats {
  placedInline: number;
  placedObjectStore: number;
  /** Objects removed by a failed register's discard or a permanent delete's release. */
  released: number;
  /** Objects written again at commit because a removal had taken them meanwhile. */
  restored: number;
  sweeps: number;
  /** Sweeps that ended in an error, and deletions a sweep could not make. */
  sweepFailures: number;
  sweptOrphans: number;
  sweptUploads: number;
}

interface PendingObject {
  bytes: Uint8Array;
  schemaType: SchemaType;
}

/** The longest `close()` waits for a sweep in progress before closing the store under it. */
const CLOSE_WAIT_MS = 5000;

const decoder = new TextDecoder("utf-8", { fatal: true });

export class ObjectContentStore<Tx> {
  readonly store: ContentBucket;
  readonly minSizeBytes: number;
  private readonly guard: ContentKeyGuard<Tx>;
  private readonly logger: Logger;
  private readonly schedule: SweepSchedule;
  /** The bytes of each placement until its row is written: what `commit` writes again if the object went. */
  private readonly pending = new WeakMap<PlacedContent, PendingObject>();
  private readonly counters = {
    placedInline: 0,
    placedObjectStore: 0,
    released: 0,
    restored: 0,
    sweeps: 0,
    sweepFailures: 0,
    sweptOrphans: 0,
    sweptUploads: 0,
  };
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sweeping: Promise<unknown> | null = null;
  private closed = false;

  constructor(options: ObjectContentStoreOptions<Tx>) {
    this.store = options.store;
    this.guard = options.guard;
    this.minSizeBytes = options.minSizeBytes;
    this.schedule = options.sweep;
    this.logger = options.logger;
  }

  // ---- write path ------------------------------------------------------

  async place(content: PreparedContent): Promise<PlacedContent> {
    if (content.contentSize < this.minSizeBytes) {
      this.counters.placedInline++;
      return { contentLocation: "inline", content: content.value, contentKey: null };
    }
    const bytes = content.canonicalBytes;
    // The content hash is the SHA-256 of exactly these bytes: the store need not hash them again.
    const stored = await this.store.putContent(bytes, content.schemaType, {
      sha256: content.contentHash.slice("sha256:".length),
    });
    const placed: PlacedContent = { contentLocation: "object_store", content: null, contentKey: stored.key };
    this.pending.set(placed, { bytes, schemaType: content.schemaType });
    this.counters.placedObjectStore++;
    return placed;
  }

  async commit<T>(placed: PlacedContent, write: (tx: Tx | null) => Promise<T>): Promise<T> {
    const key = placed.contentKey;
    if (placed.contentLocation !== "object_store" || key === null) return write(null);
    try {
      return await this.guard.underLock(key, "shared", async (tx) => {
        await this.ensureStored(placed, key);
        return write(tx);
      });
    } finally {
      this.pending.delete(placed);
    }
  }

  async discard(placed: PlacedContent): Promise<void> {
    this.pending.delete(placed);
    if (placed.contentLocation === "object_store" && placed.contentKey !== null) {
      await this.removeUnreferenced(placed.contentKey);
    }
  }

  async release(record: SchemaRecord): Promise<void> {
    if (record.contentKey !== null) await this.removeUnreferenced(record.contentKey);
  }

  // ---- read path -------------------------------------------------------

  async load(record: SchemaRecord): Promise<unknown> {
    // readContent checks the bytes against the hash in their key.
    const bytes = await this.store.readContent(keyOf(record), { size: record.contentSize });
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (error) {
      throw new RegistryError("internal", "stored content is not UTF-8 text", {}, { cause: error });
    }
    if (record.schemaType === "protobuf") return text;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RegistryError("internal", "stored content is not JSON", {}, { cause: error });
    }
  }

  async open(record: SchemaRecord): Promise<ReadableStream<Uint8Array>> {
    const { body } = await this.store.objects.getStream(keyOf(record));
    return body;
  }

  async link(record: SchemaRecord): Promise<ContentLink> {
    return this.store.contentUrl(keyOf(record));
  }

  // ---- direct uploads --------------------------------------------------

  createUpload(request: CreateUploadRequest): Promise<UploadTicket> {
    return this.store.createUpload(request);
  }

  readUpload(uploadId: string): Promise<Uint8Array> {
    return this.store.readUpload(uploadId);
  }

  discardUpload(uploadId: string): Promise<void> {
    return this.store.discardUpload(uploadId);
  }

  // ---- the sweep -------------------------------------------------------

  /** One sweep now: orphaned content objects and expired uploads. */
  async sweep(options: { dryRun?: boolean; graceMs?: number; uploadExpiryMs?: number } = {}) {
    let report: SweepReport;
    try {
      report = await sweepOrphans({
        store: this.store.objects,
        // The backend answers from the primary: a lagging replica could miss a fresh reference.
        isReferenced: (keys) => this.guard.referenced(keys),
        guardRemoval: (key, remove) => this.underExclusiveLock(key, remove),
        graceMs: options.graceMs ?? this.schedule.graceMs,
        uploadExpiryMs: options.uploadExpiryMs ?? this.schedule.uploadExpiryMs,
        dryRun: options.dryRun ?? false,
      });
    } catch (error) {
      this.counters.sweepFailures++;
      throw error;
    }
    this.counters.sweeps++;
    this.counters.sweepFailures += report.failed;
    if (!report.dryRun) {
      this.counters.sweptOrphans += report.orphansDeleted;
      this.counters.sweptUploads += report.uploadsExpired;
    }
    return report;
  }

  /** Sweeps every `intervalMs` in the background until `close()`; nothing when the interval is 0. */
  startSweeping(): void {
    if (this.schedule.intervalMs <= 0 || this.timer !== null || this.closed) return;
    const next = () => {
      const jitter = 0.9 + Math.random() * 0.2;
      this.timer = backgroundTimeout(run, Math.round(this.schedule.intervalMs * jitter));
    };
    const run = () => {
      this.timer = null;
      if (this.closed) return;
      const started = performance.now();
      this.sweeping = this.sweep()
        .then(
          (report) => {
            const removed = report.orphansDeleted + report.uploadsExpired;
            const fields = { ...report, duration_ms: Math.round(performance.now() - started) };
            if (removed > 0 || report.failed > 0) this.logger.info("object store sweep", fields);
            else this.logger.debug("object store sweep", fields);
          },
          (error: unknown) => this.logger.warn("object store sweep failed; the next one retries", { error }),
        )
        .finally(() => {
          this.sweeping = null;
          if (!this.closed) next();
        });
    };
    next();
  }

  // ---- operations ------------------------------------------------------

  /** A HEAD on the bucket. */
  ping(): Promise<PingResult> {
    return this.store.objects.ping();
  }

  /** Not critical: metadata reads and small content go on without the object store. */
  get healthProbe(): HealthProbe {
    return {
      name: "object_store",
      critical: false,
      check: async () => {
        await this.ping();
      },
    };
  }

  stats(): ObjectContentStoreStats {
    return { ...this.store.objects.stats(), ...this.counters };
  }

  /** Stops the sweep (waiting a little for one in progress) and closes the store's connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.sweeping) {
      let waited: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.sweeping,
        new Promise((resolve) => {
          waited = setTimeout(resolve, CLOSE_WAIT_MS);
        }),
      ]);
      clearTimeout(waited);
    }
    await this.store.objects.close();
  }

  // ---- helpers ---------------------------------------------------------

  /** Under the shared lock: the object is there, or it is written again from the placement's bytes. */
  private async ensureStored(placed: PlacedContent, key: string): Promise<void> {
    if ((await this.store.objects.head(key)) !== null) return;
    const pending = this.pending.get(placed);
    if (!pending) {
      throw new RegistryError("internal", "content placed in the object store was lost before its commit");
    }
    await this.store.objects.put(key, pending.bytes, {
      contentType: CONTENT_MEDIA_TYPES[pending.schemaType],
    });
    this.counters.restored++;
    this.logger.info("object store content was removed before its row committed; written again", { key });
  }

  /** Deletes the object unless a row points at it; true when it was deleted. */
  private removeUnreferenced(key: string): Promise<boolean> {
    return this.underExclusiveLock(key, async () => {
      await this.store.deleteContent(key);
      this.counters.released++;
      return true;
    });
  }

  /** Runs `remove` holding the key's lock exclusively, unless a row points at the key. */
  private underExclusiveLock(key: string, remove: () => Promise<boolean>): Promise<boolean> {
    return this.guard.underLock(key, "exclusive", async (_tx, referenced) => {
      if ((await referenced([key])).has(key)) return false;
      return remove();
    });
  }
}

function keyOf(record: SchemaRecord): string {
  if (record.contentKey === null) {
    throw new RegistryError(
      "internal",
      `schema ${record.id} is in the object store but its row names no key`,
    );
  }
  return record.contentKey;
}

export interface ObjectContentStoreDeps<Tx> {
  guard: ContentKeyGuard<Tx>;
  logger: Logger;
}

/**
 * The store from its settings, which the composition root resolves from the
 * configuration; null (no bucket configured) is a caller's mistake.
 */
export async function createObjectContentStore<Tx>(
  settings: S3Config | null,
  deps: ObjectContentStoreDeps<Tx>,
): Promise<ObjectContentStore<Tx>> {
  if (settings === null) {
    throw new RegistryError("internal", "the object-store content store needs S3_BUCKET");
  }
  const store = await createContentBucket(settings);
  return new ObjectContentStore({
    store,
    guard: deps.guard,
    minSizeBytes: settings.minSizeBytes,
    sweep: {
      intervalMs: settings.sweepIntervalSeconds * 1000,
      graceMs: settings.sweepGraceSeconds * 1000,
      uploadExpiryMs: settings.uploadExpirySeconds * 1000,
    },
    logger: deps.logger,
  });
}
