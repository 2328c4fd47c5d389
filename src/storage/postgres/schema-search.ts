/**
 * SchemaSearch on PostgreSQL. Text (`q`) is full-text search over
 * `schema_search` (migration 005): a weighted tsvector of the subject split
 * into words, the tags, the description and the owner, matched with
 * websearch_to_tsquery and ranked with ts_rank_cd; the schema whose subject is
 * `q` itself ranks first. A word of `q` that no schema contains is taken for a
 * typo when the text finds less than the page: it is replaced by its closest
 * words in the `search_words` vocabulary (trigram similarity) and the search
 * runs again. Without `q`, the filters walk the narrow table's indexes in the
 * order of the sort. Either way only the page is read from `schemas`, and
 * the total is exact up to a bound (see SearchOptions and DEFAULT_SEARCH_BOUND).
 */
import type postgres from "postgres";
import type { Page, SearchHit, SearchQuery } from "../../domain/types.ts";
import type { SchemaSearch } from "../schema-search.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import type { Db } from "./pool.ts";
import { type Columns, type SchemaRow, toSchemaRecord } from "./schema-rows.ts";

export interface SearchOptions {
  columns: Columns;
  /**
   * How close a vocabulary word must be to a word of `q` that no schema
   * contains to stand in for it (pg_trgm similarity, 0 to 1). Default 0.4:
   * one typo in a word of eight letters or more still matches.
   */
  similarityThreshold?: number;
  /**
   * Searches count their matches up to this many; past it, `total` is this
   * bound and `totalExact` false. Default DEFAULT_SEARCH_BOUND: counting
   * costs what reading the matches does.
   */
  exactTotalUpTo?: number;
  /**
   * A text search ranks at most this many matches (the first the index
   * yields, and the schema whose subject is `q`), or the page's limit when
   * that is larger; a word that thousands of schemas contain then costs what
   * this many do. Default DEFAULT_SEARCH_BOUND.
   */
  rankLimit?: number;
}

/**
 * How many matches a search counts and ranks by default. A common word's
 * search costs PostgreSQL time in proportion to it: at 100,000 schemas, a word
 * that one schema in nine contains took 12.7 ms at 1,000 (the bound before),
 * 8.2 ms at 500 and 4.3 ms at 250 (pgbench, one client). Twelve pages of
 * twenty are more than a reader turns before adding a word or a filter.
 */
export const DEFAULT_SEARCH_BOUND = 250;

/** Close words tried for each unknown word of `q`. */
const TYPO_ALTERNATIVES = 3;

type Row = SchemaRow & { score: number | null; total: number };

export class PostgresSchemaSearch implements SchemaSearch {
  private readonly columns: Columns;
  private readonly threshold: number;
  private readonly countBound: number;
  private readonly rankLimit: number;

  constructor(
    private readonly db: DbHandles,
    options: SearchOptions,
  ) {
    this.columns = options.columns;
    this.threshold = options.similarityThreshold ?? 0.4;
    this.countBound = options.exactTotalUpTo ?? DEFAULT_SEARCH_BOUND;
    this.rankLimit = options.rankLimit ?? DEFAULT_SEARCH_BOUND;
  }

  async search(query: SearchQuery): Promise<Page<SearchHit>> {
    const q = query.q?.trim() ?? "";
    try {
      return await this.db.reader.run(async (db) => {
        if (q === "") return this.filterSearch(db, query);
        // Words need three characters to say anything; a shorter query is a plain substring match.
        if (q.length < 3) return this.substringSearch(db, query, q);
        const text = searchText(q);
        const exact = await this.textSearch(db, query, q, db`websearch_to_tsquery('simple', ${text})`);
        if (exact.total >= query.offset + query.limit) return exact;
        const corrected = await this.correctedQuery(db, text);
        if (corrected === null) return exact;
        return this.textSearch(db, query, q, db`to_tsquery('simple', ${corrected})`);
      });
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  /**
   * `text` with each word that no schema contains replaced by its closest
   * vocabulary words (`(w1 | w2 | w3)`), the words ANDed, as to_tsquery text;
   * null when every word is known, so that a retry could find nothing new.
   * The query's operators (quotes, `or`, `-`) are not kept: this is the
   * second chance for text that matched less than a page.
   */
  private async correctedQuery(db: Db, text: string): Promise<string | null> {
    const [row] = await db<{ query: string | null; unknown: boolean }[]>`
      SELECT string_agg(alternatives, ' & ') AS query, bool_or(unknown) AS unknown
      FROM (
        SELECT NOT known AS unknown,
               CASE WHEN known THEN quote_literal(w.lexeme)
                    ELSE '(' || coalesce((
                      SELECT string_agg(quote_literal(c.word), ' | ')
                      FROM (SELECT v.word FROM search_words AS v
                            WHERE v.word % w.lexeme AND similarity(v.word, w.lexeme) >= ${this.threshold}
                            ORDER BY similarity(v.word, w.lexeme) DESC, v.word
                            LIMIT ${TYPO_ALTERNATIVES}) AS c), quote_literal(w.lexeme)) || ')'
               END AS alternatives
        FROM unnest(to_tsvector('simple', ${text})) AS w,
             LATERAL (SELECT EXISTS (SELECT 1 FROM search_words AS k WHERE k.word = w.lexeme) AS known) AS k
      ) AS words`;
    return row?.unknown ? row.query : null;
  }

  /**
   * Every match is ranked in the narrow table, then only the page is read
   * from `schemas`. The count comes from the same materialized matches.
   */
  private async textSearch(
    db: Db,
    query: SearchQuery,
    q: string,
    tsquery: postgres.PendingQuery<postgres.Row[]>,
  ): Promise<Page<SearchHit>> {
    // Live and deleted rows have partial indexes of their own (see migration
    // 005); with deleted ones, each arm of the OR names its index's condition.
    // Tags and owner are in the document too (see migration 005): the index
    // finds text and those filters together; filters() checks them again.
    const lexemes = [
      ...(query.tags ?? []).map((tag) => `tag=${tag}`),
      ...(query.owner ? [`owner=${query.owner}`] : []),
    ];
    const indexed =
      lexemes.length === 0 ? tsquery : db`(${tsquery} && ${lexemes.map(tsqueryLexeme).join(" & ")}::tsquery)`;
    const where = filters(
      db,
      query,
      query.includeDeleted
        ? db`((d.live AND d.document @@ ${indexed}) OR (NOT d.live AND d.document @@ ${indexed}))`
        : db`d.live AND d.document @@ ${indexed}`,
    );
    const cols = query.withContent ? this.columns.record : this.columns.listing;
    const match = db`
      SELECT d.schema_id, d.subject, d.version_sort, d.global_id, d.created_at,
             CASE WHEN d.subject = ${q} THEN 1::real ELSE ts_rank_cd(d.document, ${tsquery}, 32) END AS score
      FROM schema_search AS d
      WHERE ${where}`;
    const bound = this.countBound + 1;
    // Ranking reads each match's document from the heap; past `rankLimit`
    // matches only the first ones the index yields are ranked (the schema
    // whose subject is `q` always among them), so a common word costs a
    // bounded amount. Counting needs the index alone, up to its own bound.
    const rows = await db<Row[]>`
      WITH matches AS MATERIALIZED (
        (${match} LIMIT ${Math.max(this.rankLimit, query.limit)})
        UNION
        (${match} AND d.subject = ${q})
      ),
      page AS (
        SELECT * FROM matches
        ORDER BY ${orderBy(db, query.sort, true)}
        LIMIT ${query.limit} OFFSET ${query.offset}
      )
      SELECT s.*, page.score,
             (SELECT count(*) FROM (SELECT 1 FROM schema_search AS d WHERE ${where} LIMIT ${bound}) AS c)::integer
               AS total
      FROM page CROSS JOIN LATERAL (SELECT ${cols} FROM schemas WHERE schemas.id = page.schema_id) AS s
      ORDER BY ${orderBy(db, query.sort, true, "page.")}`;
    const total =
      rows[0]?.total ??
      // A page past the end carries no row to read the count from.
      (query.offset === 0
        ? 0
        : ((
            await db<{ total: number }[]>`
              SELECT count(*)::integer AS total
              FROM (SELECT 1 FROM schema_search AS d WHERE ${where} LIMIT ${bound}) AS c`
          )[0]?.total ?? 0));
    return toPage(query, rows, Math.min(total, this.countBound), total <= this.countBound);
  }

  /** Filters alone: a page in the narrow table's index order, then its rows from `schemas`. */
  private async filterSearch(db: Db, query: SearchQuery): Promise<Page<SearchHit>> {
    const where = filters(db, query, query.includeDeleted ? db`TRUE` : db`d.live`);
    const cols = query.withContent ? this.columns.record : this.columns.listing;
    const bound = this.countBound + 1;
    const count = db`
      (SELECT count(*) FROM (SELECT 1 FROM schema_search AS d WHERE ${where} LIMIT ${bound}) AS c)::integer`;
    const rows = await db<Row[]>`
      WITH page AS (
        SELECT d.schema_id, d.subject, d.version_sort, d.global_id, d.created_at, NULL::real AS score
        FROM schema_search AS d
        WHERE ${where}
        ORDER BY ${orderBy(db, query.sort, false)}
        LIMIT ${query.limit} OFFSET ${query.offset}
      )
      SELECT s.*, page.score, ${count} AS total
      FROM page CROSS JOIN LATERAL (SELECT ${cols} FROM schemas WHERE schemas.id = page.schema_id) AS s
      ORDER BY ${orderBy(db, query.sort, false, "page.")}`;
    const total = rows[0]?.total ?? (await db<{ total: number }[]>`SELECT ${count} AS total`)[0]?.total ?? 0;
    return toPage(query, rows, Math.min(total, this.countBound), total <= this.countBound);
  }

  /**
   * Text too short for words (one or two characters): a literal substring of
   * the subject or of a word of the document (tags, description and owner
   * words), over `schema_search` alone; ranked by the subject's similarity.
   * The words that hold it are found in the vocabulary (`search_words`, every
   * word any document has held) and matched as one tsquery of alternatives:
   * unpacking each row's document to look at its words took about a second
   * at 100,000 schemas, the vocabulary a few milliseconds. No index serves a
   * two-character substring of the subject: the filters narrow it, and the
   * count stops at its bound.
   */
  private async substringSearch(db: Db, query: SearchQuery, q: string): Promise<Page<SearchHit>> {
    const text = db`(d.subject ILIKE ${`%${escapeLike(q)}%`}
      OR d.document @@ (SELECT string_agg(quote_literal(v.word), ' | ')::tsquery FROM search_words AS v
                        WHERE v.word LIKE ${`%${escapeLike(q.toLowerCase())}%`}))`;
    const where = filters(db, query, query.includeDeleted ? text : db`d.live AND ${text}`);
    const cols = query.withContent ? this.columns.record : this.columns.listing;
    const bound = this.countBound + 1;
    const count = db`
      (SELECT count(*) FROM (SELECT 1 FROM schema_search AS d WHERE ${where} LIMIT ${bound}) AS c)::integer`;
    const rows = await db<Row[]>`
      WITH page AS (
        SELECT d.schema_id, d.subject, d.version_sort, d.global_id, d.created_at,
               word_similarity(${q}, d.subject) AS score
        FROM schema_search AS d
        WHERE ${where}
        ORDER BY ${orderBy(db, query.sort, true)}
        LIMIT ${query.limit} OFFSET ${query.offset}
      )
      SELECT s.*, page.score, ${count} AS total
      FROM page CROSS JOIN LATERAL (SELECT ${cols} FROM schemas WHERE schemas.id = page.schema_id) AS s
      ORDER BY ${orderBy(db, query.sort, true, "page.")}`;
    const total = rows[0]?.total ?? (await db<{ total: number }[]>`SELECT ${count} AS total`)[0]?.total ?? 0;
    return toPage(query, rows, Math.min(total, this.countBound), total <= this.countBound);
  }
}

/** A lexeme as tsquery text: quoted, so that no character of it is an operator. */
function tsqueryLexeme(lexeme: string): string {
  return `'${lexeme.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** The conditions on `schema_search AS d` that every search shares, after `first`. */
function filters(
  db: Db,
  query: SearchQuery,
  first: postgres.PendingQuery<postgres.Row[]>,
): postgres.PendingQuery<postgres.Row[]> {
  const conditions = [first];
  if (query.subject) {
    conditions.push(
      query.subject.includes("*")
        ? db`d.subject LIKE ${escapeLike(query.subject).replaceAll("*", "%")}`
        : db`d.subject = ${query.subject}`,
    );
  }
  if (query.schemaType) conditions.push(db`d.schema_type = ${query.schemaType}`);
  if (query.states && query.states.length > 0) conditions.push(db`d.state = ANY(${query.states}::text[])`);
  if (query.owner) conditions.push(db`d.owner = ${query.owner}`);
  if (query.tags && query.tags.length > 0) conditions.push(db`d.tags @> ${query.tags}::text[]`);
  if (query.metadata && Object.keys(query.metadata).length > 0) {
    // Arbitrary containment needs the document itself: read per candidate, only when asked for.
    conditions.push(db`EXISTS (SELECT 1 FROM schemas AS m WHERE m.id = d.schema_id
                         AND m.metadata @> ${db.json(query.metadata as postgres.JSONValue)}::jsonb)`);
  }
  return conditions.reduce((all, condition) => db`${all} AND ${condition}`);
}

function toPage(query: SearchQuery, rows: Row[], total: number, totalExact: boolean): Page<SearchHit> {
  return {
    items: rows.map(({ total: _total, ...row }) => ({ ...toSchemaRecord(row), score: row.score })),
    limit: query.limit,
    offset: query.offset,
    total,
    ...(totalExact ? {} : { totalExact: false }),
  };
}

/**
 * `q` as the documents were written (migration 005's registry_subject_words):
 * `.`, `_`, `/` and `:` inside a word separate words, and camelCase is split,
 * so "com.acme.chat.CompletionRequest" finds its subject. A leading `-`
 * (negation) and quotes keep their websearch meaning.
 */
export function searchText(q: string): string {
  return q
    .replace(/(?<=[\p{L}\p{N}])[._/:]+(?=[\p{L}\p{N}])/gu, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
}

/** Escapes LIKE's wildcards and its escape character, so user text matches literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

function orderBy(
  db: Db,
  sort: SearchQuery["sort"],
  hasQuery: boolean,
  table = "",
): postgres.PendingQuery<postgres.Row[]> {
  // Constant text only: the direction comes from a boolean, never from input.
  const dir = sort.descending ? "DESC" : "ASC";
  const t = table;
  switch (sort.field) {
    case "relevance":
      return db.unsafe(
        hasQuery
          ? `${t}score ${dir}, ${t}subject, ${t}version_sort DESC, ${t}global_id`
          : `${t}subject, ${t}version_sort DESC, ${t}global_id`,
      );
    case "created_at":
      return db.unsafe(`${t}created_at ${dir}, ${t}global_id ${dir}`);
    case "subject":
      return db.unsafe(`${t}subject ${dir}, ${t}version_sort DESC, ${t}global_id`);
    case "version":
      return db.unsafe(`${t}version_sort ${dir}, ${t}subject, ${t}global_id`);
  }
}
