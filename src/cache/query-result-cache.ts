/**
 * The query-result cache: pages of `search`, `listVersions` and
 * `listSubjects` kept in an L1 of their own (in-process, never Redis) for a
 * few seconds, so that a burst of identical fuzzy searches costs PostgreSQL
 * one trigram scan instead of one each.
 *
 * A write ends only the entries it can change, not all of them: at a mix of
 * 5 % writes one global generation moved on every few milliseconds and the
 * cache answered almost nothing. Each key handed out is remembered with its
 * query, and a change drops (and stops in-flight loads of) the keys whose
 * results it may alter:
 *
 * - `versions` (one subject's list): changes of that subject only.
 * - `subjects` (the list of subjects): every change, since each register
 *   moves a subject's version count and latest version.
 * - `search`: a change of a row the query could match, judged from the row
 *   and the query's filters (type, subject pattern, owner, tags, state) and,
 *   for `q`, conservatively from the text PostgreSQL searches (the subject
 *   and its words, tags, description, owner: the document of migration 005).
 *   A row matches a word of `q` when it holds that word (full text) or a
 *   word that stands in for a typo of it (trigram similarity of 0.4 or more
 *   in the vocabulary); so a row that does not contain `q` and has no word
 *   within a similarity of 0.25 of a word of `q` (a margin below the
 *   search's threshold) cannot match, nor can its new words change what a
 *   typo of `q` stands for. Any doubt (non-ASCII text, a `-` that may negate
 *   a word) counts as a match.
 *
 * This instance's writes are applied before the write is answered (the
 * change listener), so the writer never reads a page from before its own
 * write. Other instances' writes arrive on the bus naming keys, not rows:
 * they end that subject's `versions` and every `subjects` entry within the
 * bus's delivery, but search pages, which no subject name can tell about,
 * are served at most `searchStaleMs` (2 s by default) after they were read
 * from PostgreSQL. A resync (notifications lost) drops everything.
 *
 * The entries live in a TieredCache without L2: single flight per key (100
 * concurrent identical misses run one query), bounded in entries and bytes
 * apart from the schemas' L1, counted as tier `query` in `/stats` and
 * `/metrics`.
 */

import type { SchemaChange, SchemaChangeListener } from "../domain/schema-changes.ts";
import type { SchemaRecord, SearchQuery } from "../domain/types.ts";
import { type CacheStats, TieredCache } from "./index.ts";
import { cacheKeys } from "./keys.ts";

/** How long a result may be served at most, absent any change. */
export const DEFAULT_QUERY_TTL_MS = 3_000;
/** How long a search page may be served after another instance's write (this instance's end it at once). */
export const DEFAULT_SEARCH_STALE_MS = 2_000;

export interface QueryCacheBounds {
  maxEntries: number;
  maxBytes: number;
  /** A larger page (a search with content, say) is loaded each time. */
  maxEntryBytes: number;
  ttlMs: number;
  /** Search pages older than this are read again; default DEFAULT_SEARCH_STALE_MS (at most ttlMs). */
  searchStaleMs?: number;
}

/** What the service asks of it; `passThroughQueries` when there is no cache. */
export interface QueryResults {
  /** The result of `load` for `kind` and `query`: from the cache, or loaded (once for concurrent callers). */
  cached<T>(kind: string, query: object, load: () => Promise<T>): Promise<T>;
}

export const passThroughQueries: QueryResults = {
  cached: (_kind, _query, load) => load(),
};

/**
 * Bounds carved for the query cache next to the schemas' L1 (from
 * CACHE_L1_MAX_ENTRIES and CACHE_L1_MAX_BYTES); null when L1 is off, and
 * then no result is cached. Pages are a few KiB (20 summaries), so a tenth
 * of the entries and at most 8 MiB hold every distinct query of a busy
 * few seconds.
 */
export function queryCacheBounds(
  l1: { maxEntries: number; maxBytes: number },
  ttlMs: number = DEFAULT_QUERY_TTL_MS,
  searchStaleMs: number = DEFAULT_SEARCH_STALE_MS,
): QueryCacheBounds | null {
  if (l1.maxEntries <= 0 || l1.maxBytes <= 0 || ttlMs <= 0) return null;
  const maxEntries = Math.max(16, Math.min(1_000, Math.floor(l1.maxEntries / 10)));
  const maxBytes = Math.min(8 * 1024 * 1024, Math.floor(l1.maxBytes / 8));
  const maxEntryBytes = Math.floor(maxBytes / 16);
  return maxEntryBytes > 0 ? { maxEntries, maxBytes, maxEntryBytes, ttlMs, searchStaleMs } : null;
}

/** The query's fields in a fixed order, `undefined` ones left out: equal queries, equal keys. */
export function normaliseQuery(query: object): string {
  return JSON.stringify(query, (_key, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
    return sorted;
  });
}

/** A key handed out: its query, and when its result was last loaded. */
interface Issued {
  kind: string;
  query: Record<string, unknown>;
  /** When the last load of the key began (its result is no older than this). */
  loadedAt: number;
  /** When the key was last asked for; keys not asked for within the TTL are forgotten. */
  usedAt: number;
  /** For `search`: the query's text as a matcher, built once. */
  text?: TextMatcher | null;
}

export class QueryResultCache implements QueryResults {
  readonly bounds: QueryCacheBounds;
  readonly #cache: TieredCache;
  readonly #issued = new Map<string, Issued>();
  readonly #searchStaleMs: number;
  #generation = 0;

  constructor(bounds: QueryCacheBounds) {
    this.bounds = bounds;
    this.#searchStaleMs = Math.min(bounds.searchStaleMs ?? DEFAULT_SEARCH_STALE_MS, bounds.ttlMs);
    this.#cache = new TieredCache({
      l1: {
        maxEntries: bounds.maxEntries,
        maxBytes: bounds.maxBytes,
        maxEntryBytes: bounds.maxEntryBytes,
        ttlMs: bounds.ttlMs,
        idleMs: bounds.ttlMs,
        // Entries live seconds: a frequency filter would only keep a new query's first answers out.
        admission: "lru",
      },
      l2: null,
    });
  }

  /** How often everything was dropped at once (a resync, or `bump`). */
  get generation(): number {
    return this.#generation;
  }

  cached<T>(kind: string, query: object, load: () => Promise<T>): Promise<T> {
    const key = `${kind}:${normaliseQuery(query)}`;
    const now = performance.now();
    let issued = this.#issued.get(key);
    if (issued) {
      this.#issued.delete(key);
      if (kind === "search" && now - issued.loadedAt > this.#searchStaleMs) this.#cache.deleteLocal(key);
    } else {
      issued = { kind, query: query as Record<string, unknown>, loadedAt: now, usedAt: now };
      if (kind === "search") issued.text = textMatcher((query as SearchQuery).q);
    }
    issued.usedAt = now;
    // Last in the map is the latest used: the forgetting below walks from the oldest.
    this.#issued.set(key, issued);
    this.#forgetOld(now);
    const entry = issued;
    return this.#cache.get(key, () => {
      entry.loadedAt = performance.now();
      return load();
    }) as Promise<T>;
  }

  /** This instance committed `change`: the entries it may alter go, before the write is answered. */
  changed(change: SchemaChange): void {
    const row = rowText(change.schema);
    this.#drop((issued) => {
      if (issued.kind === "subjects") return true;
      if (issued.kind === "versions") return issued.query.subject === change.schema.subject;
      if (issued.kind === "search") return searchMayMatch(issued, change, row);
      return true;
    });
  }

  /** Another instance changed what these cache keys name: its subjects' lists go; search pages age out. */
  heard(keys: readonly string[] | "all"): void {
    if (keys === "all") {
      this.bump();
      return;
    }
    const subjects = subjectsOf(keys);
    this.#drop((issued) => {
      if (issued.kind === "search") return false;
      if (issued.kind === "versions" && subjects !== null)
        return subjects.has(issued.query.subject as string);
      return true;
    });
  }

  /** Nothing cached so far is served again (notifications were lost). */
  bump(): void {
    this.#generation++;
    this.#issued.clear();
    this.#cache.clearLocal();
  }

  /** Applies every change this instance commits. */
  listener(): SchemaChangeListener {
    return {
      schemaChanged: async (change) => {
        this.changed(change);
      },
    };
  }

  stats(): CacheStats {
    return this.#cache.stats();
  }

  close(): Promise<void> {
    return this.#cache.close();
  }

  #drop(affected: (issued: Issued) => boolean): void {
    const keys: string[] = [];
    for (const [key, issued] of this.#issued) {
      if (!affected(issued)) continue;
      keys.push(key);
      this.#issued.delete(key);
    }
    // Also marks a load in flight for the key stale, so what it read before the change is never stored.
    if (keys.length > 0) this.#cache.deleteLocal(keys);
  }

  /**
   * Keys not asked for within the TTL (or beyond twice the entry bound) are
   * forgotten, and their entries dropped with them, so that no entry is ever
   * held that a change could not reach.
   */
  #forgetOld(now: number): void {
    const limit = 2 * this.bounds.maxEntries;
    const old: string[] = [];
    for (const [key, issued] of this.#issued) {
      if (this.#issued.size - old.length <= limit && now - issued.usedAt <= this.bounds.ttlMs) break;
      old.push(key);
    }
    for (const key of old) this.#issued.delete(key);
    if (old.length > 0) this.#cache.deleteLocal(old);
  }
}

/** The subjects that `keys` (schema-cache.ts's) name through their `latest` key; null: some key names none. */
function subjectsOf(keys: readonly string[]): Set<string> | null {
  const subjects = new Set<string>();
  const head = cacheKeys.subjectLatest("").slice(0, -":latest".length);
  for (const key of keys) {
    if (key.startsWith(head) && key.endsWith(":latest"))
      subjects.add(key.slice(head.length, -":latest".length));
  }
  return subjects.size > 0 ? subjects : null;
}

// ---- whether a changed row can be among a search's results ---------------

/** `q` lower-cased, with the trigrams of each of its words; null for no `q`. */
interface TextMatcher {
  lower: string;
  words: Set<string>[];
  /**
   * Outside ASCII case folding and word boundaries may differ from
   * PostgreSQL's, and `-word` matches rows without the word: always a match.
   */
  unsure: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range itself
const ASCII = /^[\x00-\x7f]*$/;

function textMatcher(q: string | undefined): TextMatcher | null {
  const trimmed = q?.trim() ?? "";
  if (trimmed === "") return null;
  const lower = trimmed.toLowerCase();
  return { lower, words: wordTrigrams(lower), unsure: !ASCII.test(trimmed) || trimmed.includes("-") };
}

/**
 * The text search reads of a row (subject, its segments split at `._/:` and
 * camelCase as registry_subject_words does, tags, description, owner),
 * lower-cased, and its trigrams.
 */
function rowText(schema: SchemaRecord): RowText {
  const metadata = (schema.metadata ?? {}) as Record<string, unknown>;
  const parts = [schema.subject];
  for (const segment of schema.subject.split(/[._/:]+/)) {
    parts.push(segment.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2"));
  }
  if (typeof metadata.description === "string") parts.push(metadata.description);
  if (typeof metadata.owner === "string") parts.push(metadata.owner);
  if (Array.isArray(metadata.tags)) parts.push(...metadata.tags.filter((tag) => typeof tag === "string"));
  const text = parts.join(" ");
  const lower = text.toLowerCase();
  return { lower, words: wordTrigrams(lower), unsure: !ASCII.test(text) };
}

interface RowText {
  lower: string;
  words: Set<string>[];
  unsure: boolean;
}

/** Below the search's similarity threshold (0.4) by a margin: where two words could stand for each other. */
const SIMILAR = 0.25;

/** pg_trgm's trigrams of each word of ASCII text (letters and digits, padded with two spaces before and one after). */
function wordTrigrams(lower: string): Set<string>[] {
  const words = new Set(lower.split(/[^a-z0-9]+/).filter((word) => word !== ""));
  return [...words].map((word) => {
    const padded = `  ${word} `;
    const trigrams = new Set<string>();
    for (let i = 0; i + 3 <= padded.length; i++) trigrams.add(padded.slice(i, i + 3));
    return trigrams;
  });
}

/** pg_trgm's similarity: shared trigrams over all trigrams of the two. */
function similarity(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const trigram of a) if (b.has(trigram)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Whether the changed row may be (or, before a state change or a delete, may
 * have been) among the query's results. False only when a filter rules it
 * out for certain; a register adds a live row, so its state counts too.
 */
function searchMayMatch(issued: Issued, change: SchemaChange, row: RowText): boolean {
  const query = issued.query as unknown as SearchQuery;
  const schema = change.schema;
  if (query.schemaType && query.schemaType !== schema.schemaType) return false;
  if (query.subject && !subjectPattern(query.subject).test(schema.subject)) return false;
  const metadata = (schema.metadata ?? {}) as Record<string, unknown>;
  if (query.owner && metadata.owner !== query.owner) return false;
  if (query.tags && query.tags.length > 0) {
    const tags = Array.isArray(metadata.tags) ? metadata.tags : [];
    if (!query.tags.every((tag) => tags.includes(tag))) return false;
  }
  if (change.kind === "registered" && query.states && query.states.length > 0) {
    if (!query.states.includes(schema.state)) return false;
  }
  const text = issued.text;
  if (!text || text.unsure || row.unsure) return true;
  if (row.lower.includes(text.lower)) return true;
  return text.words.some((word) => row.words.some((other) => similarity(word, other) >= SIMILAR));
}

/** The search's subject filter: exact, or `*` for any run of characters (SQL LIKE, case-sensitive). */
function subjectPattern(pattern: string): RegExp {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${source}$`);
}
