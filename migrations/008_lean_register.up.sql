-- 008_lean_register: a register does only the work something reads.
--
-- Measured on a register (bench/registry/register-profile.ts: PostgreSQL's
-- per-function timing, statement durations, and A/B runs of 300 registers in
-- a rolled-back transaction with each piece dropped), the triggers and
-- indexes below took about half of a register's time in PostgreSQL, and
-- nothing reads what they maintain since migration 005 moved search to
-- `schema_search`:
--
--   - 001's `search_text` trigger and its trigram index, and the trigram index
--     on `schemas.subject`: search reads `schema_search` (short text included,
--     see src/storage/postgres/schema-search.ts);
--   - 001's GIN index on `metadata` and 002's owner and creation-time indexes:
--     search filters and sorts on `schema_search`'s own columns and indexes, and
--     reads `schemas.metadata` only by primary key;
--   - 005's statement-level search trigger: for the one-row insert of a
--     register, its transition table and CTE cost more than the work itself
--     (a row-level trigger does the same in about 0.1 ms less); bulk loads
--     (scripts/seed.ts) fill `schema_search` in one statement of their own;
--   - 005's document function as SQL with sub-selects: the same document in
--     PL/pgSQL, the tags read once, in about a third of the time;
--   - 002's materialized view `subject_versions`: nothing reads it any more
--     (subject lists read `schemas`), yet every write scheduled its refresh,
--     which aggregates the whole table: about 3 s of PostgreSQL's CPU at
--     100,000 schemas, repeated every few seconds while writes go on
--     (instances of the previous release log a failed view refresh until they
--     are replaced; nothing they serve depends on it);
--   - the foreign key from `schema_search` to `schemas`: its check on every
--     insert locked the row just inserted (FOR KEY SHARE); only the trigger
--     inserts there, with the new row's id, so the check proves nothing. A
--     permanent delete still removes the search row, through a delete trigger.
--
-- `schemas.search_text` itself stays (a constant default, nothing computes
-- it) for the instances of the previous release during a rolling deploy: their
-- short-text search reads it. Drop it once no such instance runs.
--
-- Locks: DROP INDEX, DROP TRIGGER and CREATE TRIGGER take `schemas`'s lock
-- for a catalog change only (no scan, no rewrite); lock_timeout makes the
-- migration give up (and the instance retry at its next start) rather than
-- queue every statement behind a long-running one.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER schemas_search_text ON schemas;
DROP FUNCTION registry_schemas_search_text();
DROP INDEX schemas_search_text_trgm_idx;
DROP INDEX schemas_subject_trgm_idx;
DROP INDEX schemas_metadata_idx;
DROP INDEX schemas_owner_idx;
DROP INDEX schemas_live_created_idx;

-- The same document as 005's (subject A, tags B, description C, owner D, and
-- the positionless `tag=` and `owner=` lexemes), the tags extracted once and
-- the filter lexemes built in a loop rather than a sub-select: half the time.
CREATE OR REPLACE FUNCTION registry_search_document(p_subject text, p_metadata jsonb) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  tags text[] := registry_metadata_tags(p_metadata);
  owner text := coalesce(p_metadata ->> 'owner', '');
  filters text[] := CASE WHEN owner = '' THEN '{}'::text[] ELSE ARRAY['owner=' || owner] END;
  tag text;
BEGIN
  FOREACH tag IN ARRAY tags LOOP
    IF tag <> '' THEN
      filters := filters || ('tag=' || tag);
    END IF;
  END LOOP;
  RETURN setweight(to_tsvector('simple', registry_subject_words(p_subject)), 'A')
      || setweight(to_tsvector('simple', array_to_string(tags, ' ')), 'B')
      || setweight(to_tsvector('simple', coalesce(p_metadata ->> 'description', '')), 'C')
      || setweight(to_tsvector('simple', owner), 'D')
      || array_to_tsvector(filters);
END
$$;

DROP TRIGGER schemas_search_insert ON schemas;

-- One row at a time: a register inserts one row.
CREATE OR REPLACE FUNCTION registry_schemas_search_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  doc tsvector := registry_search_document(NEW.subject, NEW.metadata);
BEGIN
  INSERT INTO schema_search (schema_id, global_id, subject, version_sort, created_at, schema_type, state, live,
                             owner, tags, document)
  VALUES (NEW.id, NEW.global_id, NEW.subject, NEW.version_sort, NEW.created_at, NEW.schema_type, NEW.state,
          NEW.deleted_at IS NULL, NEW.metadata ->> 'owner', registry_metadata_tags(NEW.metadata), doc);
  -- Most words are known already: look before inserting, so a register does
  -- not take locks on the vocabulary's index for nothing.
  INSERT INTO search_words (word)
  SELECT DISTINCT w.lexeme FROM unnest(doc) AS w
  WHERE w.positions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM search_words AS s WHERE s.word = w.lexeme)
  ON CONFLICT (word) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER schemas_search_insert
  AFTER INSERT ON schemas
  FOR EACH ROW EXECUTE FUNCTION registry_schemas_search_insert();

ALTER TABLE schema_search DROP CONSTRAINT schema_search_schema_id_fkey;

CREATE FUNCTION registry_schemas_search_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM schema_search WHERE schema_id = OLD.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER schemas_search_delete
  AFTER DELETE ON schemas
  FOR EACH ROW EXECUTE FUNCTION registry_schemas_search_delete();

DROP MATERIALIZED VIEW subject_versions;
