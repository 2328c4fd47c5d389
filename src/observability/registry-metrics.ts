/**
 * The registry's metrics: every name, help text, label and bucket of what
 * `/metrics` exposes, declared in one place (the README lists them from here).
 *
 * Prometheus conventions: the `schema_registry_` prefix, base units
 * (`_seconds`, `_bytes`), `_total` on counters. Labels take a few known values
 * each (schema type, route template, operation, tier); never a schema id or a
 * subject, which would give every schema its own time series.
 *
 * Events the registry itself sees (registers, reads, deletes, queries, HTTP
 * requests, object-store transfers) are counted here as they happen. What the
 * cache and the object store count already is read from their `stats()`
 * snapshots at scrape time, so nothing is counted twice.
 */
import { SCHEMA_TYPES, type SchemaType } from "../domain/types.ts";
import type { ProcessFigures } from "../runtime/runtime.ts";
import type { HealthProbe } from "./health.ts";
import {
  type Counter,
  DURATION_BUCKETS,
  type Histogram,
  MetricsRegistry,
  type Sample,
  SIZE_BUCKETS,
} from "./metrics-registry.ts";
import {
  DELETE_MODES,
  type DeleteMode,
  FETCH_KINDS,
  type FetchKind,
  type RegistryObserver,
} from "./registry-observer.ts";

/** What the metrics read from the tiered cache's `stats()` (TieredCache satisfies it). */
export interface CacheFigures {
  l1: { hits: number; misses: number; entries?: number; bytes?: number; evictions?: number } | null;
  l2: {
    hits: number;
    misses: number;
    errors?: number;
    timeouts?: number;
    breaker?: { state: string; trips: number };
  } | null;
  /** The search and list results' own L1 (registry/query-result-cache.ts), when there is one. */
  query?: { hits: number; misses: number } | null;
}

/** What the metrics read from the object store's counters (the content tier's `stats()` satisfies it). */
export interface ObjectStoreFigures {
  uploads: number;
  downloads: number;
  errors: number;
  presignedGets: number;
  presignedPuts: number;
}

/** One admission class's figures (registry/admission.ts's `figures()` satisfies it). */
export interface AdmissionClassFigures {
  inFlight: number;
  queued: number;
  rejections: number;
}

/** The admission bounds by class (search, write); null for a class left unbounded. */
export type AdmissionFigures = Record<string, AdmissionClassFigures | null>;

export type TransferDirection = "upload" | "download";

/** One read replica as `/metrics` sees it (the read router's statistics satisfy it after a map). */
export interface ReplicaFigures {
  /** `host:port/database`, never a password: one series per configured replica. */
  name: string;
  /** Answering as a standby, so reads may go to it. */
  up: boolean;
  /** WAL bytes the replica has yet to replay behind the primary's last known position; null before the first reading. */
  lagBytes: number | null;
}

/** A health probe that does not answer within this long counts as down in `/metrics` too. */
export const HEALTH_SCRAPE_TIMEOUT_MS = 2000;

/** The stats snapshots a tier hands the composition root for `/metrics` to read at scrape time. */
export interface MetricsSources {
  /** The tiered cache's `stats()`. */
  cache?: () => CacheFigures | null;
  /** The object store's `stats()`. */
  objectStore?: () => ObjectStoreFigures | null;
}

/** The circuit breaker's state as a number, so an alert can say `== 2`. */
export const BREAKER_STATE_VALUES: Readonly<Record<string, number>> = { closed: 0, half_open: 1, open: 2 };

const P = "schema_registry_";

export class RegistryMetrics implements RegistryObserver {
  readonly registry = new MetricsRegistry();

  private readonly registeredTotal: Counter;
  private readonly rejectedTotal: Counter;
  private readonly fetchedTotal: Counter;
  /** fetchedTotal's cell per kind, resolved once: every single-schema read counts one. */
  private readonly fetchedCells: Record<FetchKind, { value: number }>;
  private readonly deletedTotal: Counter;
  private readonly queryDuration: Histogram;
  private readonly httpDuration: Histogram;
  private readonly httpInFlight: { value: number };
  private readonly transferSize: Record<TransferDirection, Histogram>;

  private cache: (() => CacheFigures | null) | null = null;
  private objectStore: (() => ObjectStoreFigures | null) | null = null;
  private process: (() => ProcessFigures | null) | null = null;
  private admission: (() => AdmissionFigures | null) | null = null;
  private admissionNow: AdmissionFigures | null = null;
  private replicas: (() => readonly ReplicaFigures[] | null) | null = null;
  private replicasNow: readonly ReplicaFigures[] = [];
  private healthProbes: readonly HealthProbe[] = [];
  private healthNow: { name: string; critical: boolean; up: boolean }[] = [];
  private readonly dbInFlight: { value: number };
  private readonly poolMax: { value: number };
  // One snapshot of each source per scrape, shared by the metrics that read it.
  private cacheNow: CacheFigures | null = null;
  private objectStoreNow: ObjectStoreFigures | null = null;
  private processNow: ProcessFigures = {};

  constructor() {
    const r = this.registry;
    r.onScrape(() => {
      this.cacheNow = safely(this.cache);
      this.objectStoreNow = safely(this.objectStore);
      this.processNow = safely(this.process) ?? {};
      this.admissionNow = safely(this.admission);
      this.replicasNow = safely(this.replicas) ?? [];
    });
    // Probed at scrape time, so a scrape says whether the instance is ready whoever else asks /health/ready.
    r.onScrape(async () => {
      this.healthNow = await probeAll(this.healthProbes);
    });
    this.registeredTotal = r.counter(
      `${P}schemas_registered_total`,
      "Successful registrations, by schema type and whether a schema was created or the same content already existed.",
      ["schema_type", "result"],
    );
    this.rejectedTotal = r.counter(
      `${P}compatibility_rejections_total`,
      "Registers refused because the subject's compatibility level found the change breaking.",
      ["schema_type"],
    );
    this.fetchedTotal = r.counter(
      `${P}schemas_fetched_total`,
      "Schemas served by the single-schema reads, by how they were asked for (id, global_id, subject_version, latest, content).",
      ["route"],
    );
    this.deletedTotal = r.counter(
      `${P}schemas_deleted_total`,
      "Deletes, soft (deleted_at set) or permanent (row removed).",
      ["mode"],
    );
    // Every known series starts at 0, so rate() and absent() work before the first event.
    for (const type of SCHEMA_TYPES) {
      for (const result of ["created", "existing"]) this.registeredTotal.inc([type, result], 0);
      this.rejectedTotal.inc([type], 0);
    }
    this.fetchedCells = Object.fromEntries(
      FETCH_KINDS.map((kind) => [kind, this.fetchedTotal.bind([kind])]),
    ) as Record<FetchKind, { value: number }>;
    for (const mode of DELETE_MODES) this.deletedTotal.inc([mode], 0);

    r.observe(
      `${P}cache_requests_total`,
      "Cache lookups by tier (l1, l2; query: search and list results) and result (hit, miss); an L1 miss goes on to L2, an L2 miss to PostgreSQL.",
      "counter",
      () => this.cacheSamples(),
    );
    r.observe(`${P}cache_l1_entries`, "Entries held in the in-process cache.", "gauge", () =>
      this.cacheValue((c) => c.l1?.entries),
    );
    r.observe(`${P}cache_l1_bytes`, "Bytes held in the in-process cache.", "gauge", () =>
      this.cacheValue((c) => c.l1?.bytes),
    );
    r.observe(
      `${P}cache_l1_evictions_total`,
      "Entries pushed out of the in-process cache by its entry or byte bound.",
      "counter",
      () => this.cacheValue((c) => c.l1?.evictions),
    );
    r.observe(
      `${P}cache_l2_errors_total`,
      "Redis calls that failed or timed out (each one became a miss).",
      "counter",
      () => this.cacheValue((c) => c.l2?.errors),
    );
    r.observe(
      `${P}cache_circuit_breaker_state`,
      "State of the Redis circuit breaker: 0 closed, 1 half-open, 2 open (Redis is not called).",
      "gauge",
      () => this.cacheValue((c) => BREAKER_STATE_VALUES[c.l2?.breaker?.state ?? ""]),
    );
    r.observe(
      `${P}cache_circuit_breaker_trips_total`,
      "Times the Redis circuit breaker opened.",
      "counter",
      () => this.cacheValue((c) => c.l2?.breaker?.trips),
    );

    const s3 = (read: (s: ObjectStoreFigures) => number) => () => {
      const stats = this.objectStoreNow;
      return stats === null ? [] : [{ labels: {}, value: read(stats) }];
    };
    r.observe(
      `${P}s3_uploads_total`,
      "Objects written to S3 (single PUTs and completed multipart uploads).",
      "counter",
      s3((s) => s.uploads),
    );
    r.observe(
      `${P}s3_downloads_total`,
      "Objects read from S3 through the registry.",
      "counter",
      s3((s) => s.downloads),
    );
    r.observe(
      `${P}s3_errors_total`,
      "S3 operations that failed.",
      "counter",
      s3((s) => s.errors),
    );
    r.observe(
      `${P}s3_presigned_urls_total`,
      "Presigned URLs issued, by HTTP method (GET to read content, PUT for direct uploads).",
      "counter",
      () => {
        const stats = this.objectStoreNow;
        if (stats === null) return [];
        return [
          { labels: { method: "GET" }, value: stats.presignedGets },
          { labels: { method: "PUT" }, value: stats.presignedPuts },
        ];
      },
    );
    this.transferSize = {
      upload: r.histogram(
        `${P}s3_upload_size_bytes`,
        "Size of content placed in the object store by a register.",
        [],
        SIZE_BUCKETS,
      ),
      download: r.histogram(
        `${P}s3_download_size_bytes`,
        "Size of content read back from the object store through the registry (presigned reads bypass it).",
        [],
        SIZE_BUCKETS,
      ),
    };

    this.queryDuration = r.histogram(
      `${P}db_query_duration_seconds`,
      "Time spent in the metadata store, by backend operation (getById, register, search, ...).",
      ["operation"],
      DURATION_BUCKETS,
    );
    this.dbInFlight = r
      .gauge(
        `${P}db_operations_in_flight`,
        "Metadata-store operations running now; each holds a pool connection or waits for one, so this over db_pool_max_connections is the primary pool's use.",
      )
      .bind([]);
    this.poolMax = r
      .gauge(
        `${P}db_pool_max_connections`,
        "Connections the primary's pool may open (DATABASE_MAX_CONNECTIONS; 1 for the embedded database).",
      )
      .bind([]);
    r.observe(
      `${P}db_replica_up`,
      "Each read replica of DATABASE_READ_URLS: 1 while it answers as a standby and may serve reads, 0 while reads go elsewhere.",
      "gauge",
      () =>
        this.replicasNow.map((replica) => ({ labels: { replica: replica.name }, value: replica.up ? 1 : 0 })),
    );
    r.observe(
      `${P}db_replica_lag_bytes`,
      "WAL a read replica has yet to replay, in bytes behind the primary's last sampled position (sampled every few seconds, so a small lag may read as 0).",
      "gauge",
      () =>
        this.replicasNow.flatMap((replica) =>
          replica.lagBytes === null ? [] : [{ labels: { replica: replica.name }, value: replica.lagBytes }],
        ),
    );
    r.observe(
      `${P}health_check_up`,
      'Each health probe at scrape time (postgres, redis, object_store, replicas): 1 answers, 0 down or no answer within 2 s; critical="true" ones down make /health/ready answer 503.',
      "gauge",
      () =>
        this.healthNow.map((check) => ({
          labels: { component: check.name, critical: String(check.critical) },
          value: check.up ? 1 : 0,
        })),
    );
    r.observe(
      `${P}ready`,
      "1 when every critical health probe answers (what /health/ready reports as 200), 0 when it would answer 503.",
      "gauge",
      () =>
        this.healthProbes.length === 0
          ? []
          : [{ labels: {}, value: this.healthNow.every((check) => check.up || !check.critical) ? 1 : 0 }],
    );
    this.httpDuration = r.histogram(
      `${P}http_request_duration_seconds`,
      "HTTP requests until the response headers, by method, route template and status.",
      ["method", "route", "status"],
      DURATION_BUCKETS,
    );
    // Counted twice per request: the series is resolved once.
    this.httpInFlight = r.gauge(`${P}http_requests_in_flight`, "HTTP requests being handled now.").bind([]);

    const admission = (read: (figures: AdmissionClassFigures) => number) => (): Sample[] =>
      Object.entries(this.admissionNow ?? {}).flatMap(([name, figures]) =>
        figures ? [{ labels: { class: name }, value: read(figures) }] : [],
      );
    r.observe(
      `${P}admission_queue_depth`,
      "Requests waiting for a slot of their class's admission bound (search: searches, lists and stats; write: registers, state changes, deletes).",
      "gauge",
      admission((f) => f.queued),
    );
    r.observe(
      `${P}admission_in_flight`,
      "Requests of the class running against the database now.",
      "gauge",
      admission((f) => f.inFlight),
    );
    r.observe(
      `${P}admission_rejections_total`,
      "Requests refused with 503 because their class's queue was full or their wait too long.",
      "counter",
      admission((f) => f.rejections),
    );
    r.observe(
      "process_start_time_seconds",
      "Start time of the process since the Unix epoch in seconds.",
      "gauge",
      () => [{ labels: {}, value: Math.round(performance.timeOrigin) / 1000 }],
    );
    r.observe(`${P}uptime_seconds`, "Seconds since the process started.", "gauge", () => [
      { labels: {}, value: Math.round(performance.now()) / 1000 },
    ]);
    r.observe(
      `${P}runtime_info`,
      "The JavaScript runtime serving the registry (value always 1).",
      "gauge",
      () => [{ labels: runtimeLabels(), value: 1 }],
    );
    const proc = (read: (p: ProcessFigures) => number | undefined) => () => {
      const value = read(this.processNow);
      return value === undefined ? [] : [{ labels: {}, value }];
    };
    r.observe(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      "gauge",
      proc((p) => p.residentBytes),
    );
    r.observe(
      `${P}heap_used_bytes`,
      "JavaScript heap in use, in bytes.",
      "gauge",
      proc((p) => p.heapUsedBytes),
    );
    r.observe(
      `${P}heap_total_bytes`,
      "JavaScript heap reserved, in bytes.",
      "gauge",
      proc((p) => p.heapTotalBytes),
    );
  }

  // ---- RegistryObserver ------------------------------------------------

  registered(schemaType: SchemaType, created: boolean): void {
    this.registeredTotal.inc([schemaType, created ? "created" : "existing"]);
  }

  rejected(schemaType: SchemaType): void {
    this.rejectedTotal.inc([schemaType]);
  }

  fetched(kind: FetchKind): void {
    this.fetchedCells[kind].value++;
  }

  deleted(mode: DeleteMode): void {
    this.deletedTotal.inc([mode]);
  }

  // ---- events of the layers below and above the service ---------------

  observeQuery(operation: string, seconds: number): void {
    this.queryDuration.observe([operation], seconds);
  }

  /** A metadata-store operation began; `queryFinished` when it settles (instrumented-storage.ts calls both). */
  queryStarted(): void {
    this.dbInFlight.value++;
  }

  queryFinished(): void {
    this.dbInFlight.value--;
  }

  observeTransfer(direction: TransferDirection, bytes: number): void {
    this.transferSize[direction].observe([], bytes);
  }

  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe([method, route, String(status)], seconds);
  }

  /** `observeHttpRequest` for one method, route and status, with the series resolved once. */
  httpRequestObserver(method: string, route: string, status: number): (seconds: number) => void {
    return this.httpDuration.bind([method, route, String(status)]);
  }

  requestStarted(): void {
    this.httpInFlight.value++;
  }

  requestFinished(): void {
    this.httpInFlight.value--;
  }

  // ---- sources read at scrape time -------------------------------------

  /** The tiered cache's `stats()`; the last one given wins. */
  watchCache(read: () => CacheFigures | null): void {
    this.cache = read;
  }

  /** The object store's `stats()`. */
  watchObjectStore(read: () => ObjectStoreFigures | null): void {
    this.objectStore = read;
  }

  /** The admission bounds' figures. */
  watchAdmission(read: () => AdmissionFigures | null): void {
    this.admission = read;
  }

  /** The primary pool's size, for the pool-use ratio. */
  watchPool(maxConnections: number): void {
    this.poolMax.value = maxConnections;
  }

  /** The read replicas' state and lag, read at scrape time. */
  watchReplicas(read: () => readonly ReplicaFigures[] | null): void {
    this.replicas = read;
  }

  /** The probes `/health/ready` runs; each scrape runs them too (schema_registry_ready, …_health_check_up). */
  watchHealth(probes: readonly HealthProbe[]): void {
    this.healthProbes = probes;
  }

  /** Memory figures from the runtime driver. */
  watchProcess(read: () => ProcessFigures | null): void {
    this.process = read;
  }

  expose(): Promise<string> {
    return this.registry.expose();
  }

  private cacheSamples(): Sample[] {
    const cache = this.cacheNow;
    if (cache === null) return [];
    const samples: Sample[] = [];
    for (const [tier, figures] of [
      ["l1", cache.l1],
      ["l2", cache.l2],
      ["query", cache.query ?? null],
    ] as const) {
      if (!figures) continue;
      samples.push({ labels: { tier, result: "hit" }, value: figures.hits });
      samples.push({ labels: { tier, result: "miss" }, value: figures.misses });
    }
    return samples;
  }

  private cacheValue(read: (cache: CacheFigures) => number | undefined): Sample[] {
    const cache = this.cacheNow;
    const value = cache === null ? undefined : read(cache);
    return value === undefined ? [] : [{ labels: {}, value }];
  }
}

/** Runs every probe with the same bound as the health routes; a probe that throws or hangs is down. */
async function probeAll(
  probes: readonly HealthProbe[],
): Promise<{ name: string; critical: boolean; up: boolean }[]> {
  return Promise.all(
    probes.map(async (probe) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_SCRAPE_TIMEOUT_MS);
      });
      try {
        const up = await Promise.race([
          probe.check().then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
        return { name: probe.name, critical: probe.critical, up };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/** A source that throws is left out of this scrape rather than failing it. */
function safely<T>(read: (() => T | null) | null): T | null {
  try {
    return read?.() ?? null;
  } catch {
    return null;
  }
}

/** `Bun/1.4.5` or `Deno/2.9.6` from the web-standard user agent; no runtime global needed. */
function runtimeLabels(): Record<string, string> {
  const agent = typeof navigator === "undefined" ? "" : (navigator.userAgent ?? "");
  const match = /^(\w+)\/(\S+)/.exec(agent);
  return match
    ? { runtime: match[1]!.toLowerCase(), version: match[2]! }
    : { runtime: "unknown", version: "" };
}
