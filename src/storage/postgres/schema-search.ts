/**
 * SchemaSearch on PostgreSQL: pg_trgm word similarity over `search_text`
 * (subject, description and tags), filters on the other columns, and the
 * total of matches in the same statement as the page.
 */
import type postgres from "postgres";
import type { Page, SearchHit, SearchQuery } from "../../domain/types.ts";
import type { SchemaSearch } from "../schema-search.ts";
import { toRegistryError } from "./db-errors.ts";
import type { DbHandles } from "./handles.ts";
import { atomic, type Db } from "./pool.ts";
import { type Columns, type SchemaRow, toSchemaRecord } from "./schema-rows.ts";

export interface SearchOptions {
  columns: Columns;
  /**
   * How close a word must be to `q` for search to match it (pg_trgm word
   * similarity, 0 to 1). Default 0.4: one typo in a short word still matches.
   */
  similarityThreshold?: number;
}

export class PostgresSchemaSearch implements SchemaSearch {
  private readonly columns: Columns;
  private readonly threshold: number;

  constructor(
    private readonly db: DbHandles,
    options: SearchOptions,
  ) {
    this.columns = options.columns;
    this.threshold = options.similarityThreshold ?? 0.4;
  }

  async search(query: SearchQuery): Promise<Page<SearchHit>> {
    const q = query.q?.trim() ?? "";
    // Trigrams need three characters; a shorter query is a plain substring match.
    const fuzzy = q.length >= 3;
    try {
      return await this.db.reader.run(async (db) => {
        if (!fuzzy) return this.runSearch(db, query, q, fuzzy);
        // `<%` compares against a session setting; set it for this transaction only.
        // The planner prices a trigram comparison like any cheap operator, so on
        // tables of a few thousand rows it scans them all and compares each
        // (about 15 µs a row) rather than asking the trigram index for the
        // candidates first, which measured 4–6x faster. Sequential scans are
        // therefore off for this transaction, whose only other statement is the
        // search itself (see runSearch's candidate step).
        return atomic(db, async (tx) => {
          const threshold = tx`
            SELECT set_config('pg_trgm.word_similarity_threshold', ${String(this.threshold)}, true),
                   set_config('enable_seqscan', 'off', true)`;
          const [, page] = await Promise.all([threshold.execute(), this.runSearch(tx, query, q, fuzzy)]);
          return page;
        });
      });
    } catch (error) {
      throw toRegistryError(error);
    }
  }

  private async runSearch(db: Db, query: SearchQuery, q: string, fuzzy: boolean): Promise<Page<SearchHit>> {
    const conditions: postgres.PendingQuery<postgres.Row[]>[] = [];
    if (!query.includeDeleted) conditions.push(db`deleted_at IS NULL`);
    if (q !== "") {
      const contains = `%${escapeLike(q)}%`;
      // Fuzzy: the candidates come from the trigram index alone, in a step of
      // their own, so no cheaper-looking index (a partial one on deleted_at,
      // say) can turn the text match into a per-row filter.
      conditions.push(fuzzy ? db`id IN (SELECT id FROM text_candidates)` : db`search_text ILIKE ${contains}`);
    }
    if (query.subject) {
      conditions.push(
        query.subject.includes("*")
          ? db`subject LIKE ${escapeLike(query.subject).replaceAll("*", "%")}`
          : db`subject = ${query.subject}`,
      );
    }
    if (query.schemaType) conditions.push(db`schema_type = ${query.schemaType}`);
    if (query.states && query.states.length > 0) conditions.push(db`state = ANY(${query.states}::text[])`);
    if (query.owner) conditions.push(db`metadata ->> 'owner' = ${query.owner}`);
    if (query.tags && query.tags.length > 0) {
      conditions.push(db`metadata @> ${db.json({ tags: query.tags })}::jsonb`);
    }
    if (query.metadata && Object.keys(query.metadata).length > 0) {
      conditions.push(db`metadata @> ${db.json(query.metadata as postgres.JSONValue)}::jsonb`);
    }
    const where = conditions.reduce((all, condition) => db`${all} AND ${condition}`, db`TRUE`);
    const score = q !== "" ? db`word_similarity(${q}, search_text)` : db`NULL::real`;
    const cols = query.withContent ? this.columns.record : this.columns.listing;
    // One statement: the window count rides along with the page, so the
    // filter (a trigram comparison per row for `q`) is evaluated once, not
    // again by a separate count query.
    const candidates =
      fuzzy && q !== ""
        ? db`WITH text_candidates AS MATERIALIZED (
               SELECT id FROM schemas WHERE search_text ILIKE ${`%${escapeLike(q)}%`} OR ${q} <% search_text)`
        : db``;
    const rows = await db<(SchemaRow & { score: number | null; total: number })[]>`
      ${candidates}
      SELECT ${cols}, ${score} AS score, count(*) OVER ()::integer AS total
      FROM schemas
      WHERE ${where}
      ORDER BY ${orderBy(db, query.sort, q !== "")}
      LIMIT ${query.limit} OFFSET ${query.offset}`;
    let total = rows[0]?.total;
    if (total === undefined) {
      // A page past the end carries no row to read the count from.
      total =
        query.offset === 0
          ? 0
          : ((
              await db<
                { total: number }[]
              >`${candidates} SELECT count(*)::integer AS total FROM schemas WHERE ${where}`
            )[0]?.total ?? 0);
    }
    return {
      items: rows.map(({ total: _total, ...row }) => ({ ...toSchemaRecord(row), score: row.score })),
      limit: query.limit,
      offset: query.offset,
      total,
    };
  }
}

/** Escapes LIKE's wildcards and its escape character, so user text matches literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

function orderBy(
  db: Db,
  sort: SearchQuery["sort"],
  hasQuery: boolean,
): postgres.PendingQuery<postgres.Row[]> {
  // Constant text only: the direction comes from a boolean, never from input.
  const dir = db.unsafe(sort.descending ? "DESC" : "ASC");
  switch (sort.field) {
    case "relevance":
      return hasQuery
        ? db`score ${dir}, subject, version_sort DESC, global_id`
        : db`subject, version_sort DESC, global_id`;
    case "created_at":
      return db`created_at ${dir}, global_id ${dir}`;
    case "subject":
      return db`subject ${dir}, version_sort DESC, global_id`;
    case "version":
      return db`version_sort ${dir}, subject, global_id`;
  }
}
