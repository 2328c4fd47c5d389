-- 005_search_at_scale: full-text search for `q`, in a narrow table of its own.
--
-- `schema_search` holds, per schema, a weighted tsvector (subject split into
-- words, tags, description, owner) with a GIN index, and copies of the
-- columns search filters and sorts on. A text search reads only this table's
-- rows (about 500 bytes each, against 2 KB and more in `schemas`) for
-- every match it ranks and counts, and joins `schemas` for the page alone.
-- `search_words` is the vocabulary of those documents' words with a trigram index:
-- a word of `q` that no schema contains is taken for a typo and replaced by
-- its closest words there, a lookup over a few thousand short words instead
-- of a trigram comparison against every row's text.
--
-- Configuration `simple`: people type identifiers, tags, team names and
-- product words ("CompletionRequest", "pii", "ml-infra", "retrieval"), which
-- an English stemmer would truncate ("retriev") and whose short words it
-- would drop as stop words ("on", "it", "up"). Plurals and misspellings are
-- met by the vocabulary fallback instead.
--
-- Locks: no table is rewritten and `schemas` gets no column. The backfill
-- reads `schemas` under ACCESS SHARE, and CREATE TRIGGER takes SHARE ROW
-- EXCLUSIVE until commit: reads go on through the whole migration, writes
-- (registers, state changes, deletes) wait for it. Measured at 100,000
-- schemas on the 2-core development machine, busy with other work: the
-- backfill of `schema_search` about 15 s (the document function costs about
-- 150 µs a row), the vocabulary under 1 s, the indexes under 1 s together;
-- so writes stall for about 15–20 s once (about ten times that at a million
-- rows: apply it at a quiet hour). lock_timeout makes the migration give up
-- (and the instance retry at its next start) rather than queue every
-- statement behind a long-running one while it waits for its lock.
-- locks: schemas (SHARE ROW EXCLUSIVE from CREATE TRIGGER to commit while schema_search is backfilled: writes wait, reads go on; about 15-20 s at 100,000 schemas)
SET LOCAL lock_timeout = '5s';

-- The subject as words: `.`, `_`, `/` and `:` separate (the parser splits
-- `-` itself, keeping the hyphenated word too, as it does in a query), camelCase
-- is split ("com.acme.chat.CompletionRequest" → com acme chat Completion
-- Request), with each segment also kept whole ("CompletionRequest") so that
-- a query typed without spaces still matches.
CREATE FUNCTION registry_subject_words(p_subject text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_agg(CASE WHEN parts = segment THEN segment ELSE segment || ' ' || parts END, ' ')
  FROM (
    SELECT segment, regexp_replace(regexp_replace(segment, '([a-z0-9])([A-Z])', '\1 \2', 'g'),
                                   '([A-Z]+)([A-Z][a-z])', '\1 \2', 'g') AS parts
    FROM regexp_split_to_table(p_subject, '[._/:]+') AS segment
  ) AS t
$$;

-- Tags of a metadata document as an array ('{}' when it has none or they are not an array).
CREATE FUNCTION registry_metadata_tags(p_metadata jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(tag), '{}')
  FROM jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(p_metadata -> 'tags') = 'array' THEN p_metadata -> 'tags' ELSE '[]'::jsonb END
  ) AS tag
$$;

-- The weighted document: subject A, tags B, description C, owner D. ts_rank_cd
-- weighs a match in the subject 1.0, in a tag 0.4, in the description 0.2.
-- Each tag and the owner also appear verbatim as `tag=<tag>` and
-- `owner=<owner>`, without positions (no text query can name them, and
-- ranking never sees them): text combined with a tag or owner filter is then
-- one GIN lookup, instead of reading every row the text matches to check the filter.
CREATE FUNCTION registry_search_document(p_subject text, p_metadata jsonb) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple', registry_subject_words(p_subject)), 'A')
      || setweight(to_tsvector('simple', array_to_string(registry_metadata_tags(p_metadata), ' ')), 'B')
      || setweight(to_tsvector('simple', coalesce(p_metadata ->> 'description', '')), 'C')
      || setweight(to_tsvector('simple', coalesce(p_metadata ->> 'owner', '')), 'D')
      || array_to_tsvector(
           ARRAY(SELECT 'tag=' || tag FROM unnest(registry_metadata_tags(p_metadata)) AS tag WHERE tag <> '')
           || CASE WHEN coalesce(p_metadata ->> 'owner', '') = '' THEN '{}'::text[]
                   ELSE ARRAY['owner=' || (p_metadata ->> 'owner')] END)
$$;

CREATE TABLE schema_search (
  schema_id uuid PRIMARY KEY REFERENCES schemas (id) ON DELETE CASCADE,
  global_id bigint NOT NULL,
  -- Byte order, as version_sort: a subject pattern's literal prefix is then a
  -- range of the subject index (LIKE 'com.acme.billing.%'), whatever the
  -- database's collation.
  subject text COLLATE "C" NOT NULL,
  version_sort text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  schema_type text NOT NULL,
  state text NOT NULL,
  live boolean NOT NULL,
  owner text,
  tags text[] NOT NULL,
  document tsvector NOT NULL
);

COMMENT ON TABLE schema_search IS 'Derived from schemas by a trigger: what text search reads and filters on.';

CREATE TABLE search_words (
  word text PRIMARY KEY
);

COMMENT ON TABLE search_words IS 'Every word of schema_search documents, for the typo fallback; only grows.';

-- Inserts, one statement at a time: a bulk insert (an import, a seed) fills
-- the search table and the vocabulary in one set-based statement each,
-- rather than row by row.
CREATE FUNCTION registry_schemas_search_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- The document is computed once per row: the vocabulary reads it back from the rows just added.
  WITH added AS (
    INSERT INTO schema_search (schema_id, global_id, subject, version_sort, created_at, schema_type, state, live,
                               owner, tags, document)
    SELECT n.id, n.global_id, n.subject, n.version_sort, n.created_at, n.schema_type, n.state,
           n.deleted_at IS NULL, n.metadata ->> 'owner', registry_metadata_tags(n.metadata),
           registry_search_document(n.subject, n.metadata)
    FROM inserted AS n
    RETURNING document
  )
  -- Most words are known already: look before inserting, so a register does
  -- not take locks on the vocabulary's index for nothing.
  INSERT INTO search_words (word)
  SELECT DISTINCT w.lexeme
  FROM added AS a, unnest(a.document) AS w
  WHERE w.positions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM search_words AS s WHERE s.word = w.lexeme)
  ON CONFLICT (word) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER schemas_search_insert
  AFTER INSERT ON schemas
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION registry_schemas_search_insert();

-- Updates of what search reads (a transition table cannot go with a column list).
CREATE FUNCTION registry_schemas_search_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  doc tsvector;
BEGIN
  -- A state change or a delete (the common updates) leaves the words as they were: no document to redo.
  IF NEW.subject IS NOT DISTINCT FROM OLD.subject AND NEW.metadata IS NOT DISTINCT FROM OLD.metadata THEN
    UPDATE schema_search SET
      version_sort = NEW.version_sort, schema_type = NEW.schema_type, state = NEW.state,
      live = NEW.deleted_at IS NULL
    WHERE schema_id = NEW.id;
    RETURN NULL;
  END IF;
  doc := registry_search_document(NEW.subject, NEW.metadata);
  UPDATE schema_search SET
    subject = NEW.subject, version_sort = NEW.version_sort, schema_type = NEW.schema_type, state = NEW.state,
    live = NEW.deleted_at IS NULL, owner = NEW.metadata ->> 'owner', tags = registry_metadata_tags(NEW.metadata),
    document = doc
  WHERE schema_id = NEW.id;
  INSERT INTO search_words (word)
  SELECT w.lexeme FROM unnest(doc) AS w
  WHERE w.positions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM search_words AS s WHERE s.word = w.lexeme)
  ON CONFLICT (word) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER schemas_search_update
  AFTER UPDATE OF subject, metadata, schema_type, state, deleted_at ON schemas
  FOR EACH ROW EXECUTE FUNCTION registry_schemas_search_update();

INSERT INTO schema_search (schema_id, global_id, subject, version_sort, created_at, schema_type, state, live,
                           owner, tags, document)
SELECT id, global_id, subject, version_sort, created_at, schema_type, state, deleted_at IS NULL,
       metadata ->> 'owner', registry_metadata_tags(metadata), registry_search_document(subject, metadata)
FROM schemas;

INSERT INTO search_words (word)
SELECT DISTINCT w.lexeme FROM schema_search AS d, unnest(d.document) AS w WHERE w.positions IS NOT NULL;

-- Live rows and deleted ones apart: a search of live schemas (nearly all of
-- them) then has no condition left to check on the heap, so counting its
-- matches reads the index alone (on pages the visibility map marks all-visible).
CREATE INDEX schema_search_live_document_idx ON schema_search USING gin (document) WHERE live;
CREATE INDEX schema_search_deleted_document_idx ON schema_search USING gin (document) WHERE NOT live;
-- Filters without text, in the order of the default sort: a page walks this
-- index (the schema whose subject is `q` is found by it too), and the columns
-- it carries let a subject pattern be checked and counted without the heap.
CREATE INDEX schema_search_subject_idx ON schema_search (subject, version_sort DESC, global_id)
  INCLUDE (schema_id, created_at, live);
-- Tag and owner filters, for counting their matches.
CREATE INDEX schema_search_live_tags_idx ON schema_search USING gin (tags) WHERE live;
CREATE INDEX schema_search_live_owner_idx ON schema_search (owner) WHERE live;
-- Sorted by creation time.
CREATE INDEX schema_search_live_created_idx ON schema_search (created_at DESC, global_id DESC) WHERE live;
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);
