/**
 * SchemaSearch: finding schemas by text (trigram similarity over subject,
 * description and tags), subject pattern, metadata, type and state, with the
 * total of matches for paging. Apart from the repository because it is the
 * one read whose cost depends on the whole table, and tuned on its own.
 */
import type { Page, SearchHit, SearchQuery } from "../domain/types.ts";

export interface SchemaSearch {
  /** Soft-deleted schemas only with `includeDeleted`; `score` is null without `q`. */
  search(query: SearchQuery): Promise<Page<SearchHit>>;
}
