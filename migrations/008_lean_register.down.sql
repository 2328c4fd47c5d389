-- 008_lean_register, reverted: the foreign key, the statement-level search
-- trigger, 005's SQL document function, 002's `subject_versions` view (the
-- previous release refreshes it), and 001's and 002's indexes and
-- `search_text` trigger come back. Rows registered while 008 was applied have
-- an empty `search_text` (nothing computed it): they get it here, without
-- touching their `updated_at`. The index builds and that backfill read the
-- whole table under the lock DROP/CREATE take: revert at a quiet hour.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER schemas_search_delete ON schemas;
DROP FUNCTION registry_schemas_search_delete();
DELETE FROM schema_search AS d WHERE NOT EXISTS (SELECT 1 FROM schemas AS s WHERE s.id = d.schema_id);
ALTER TABLE schema_search
  ADD CONSTRAINT schema_search_schema_id_fkey FOREIGN KEY (schema_id) REFERENCES schemas (id) ON DELETE CASCADE;

DROP TRIGGER schemas_search_insert ON schemas;

CREATE OR REPLACE FUNCTION registry_schemas_search_insert() RETURNS trigger
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

CREATE OR REPLACE FUNCTION registry_search_document(p_subject text, p_metadata jsonb) RETURNS tsvector
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

CREATE FUNCTION registry_schemas_search_text() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := concat_ws(' ',
    NEW.subject,
    NEW.metadata ->> 'description',
    (SELECT string_agg(tag, ' ')
       FROM jsonb_array_elements_text(
         CASE WHEN jsonb_typeof(NEW.metadata -> 'tags') = 'array' THEN NEW.metadata -> 'tags' ELSE '[]'::jsonb END
       ) AS tag));
  RETURN NEW;
END
$$;

CREATE TRIGGER schemas_search_text
  BEFORE INSERT OR UPDATE OF subject, metadata ON schemas
  FOR EACH ROW EXECUTE FUNCTION registry_schemas_search_text();

-- The rows 008 left without it (a subject is never empty, so '' marks them).
ALTER TABLE schemas DISABLE TRIGGER schemas_updated_at;
UPDATE schemas SET search_text = concat_ws(' ',
    subject,
    metadata ->> 'description',
    (SELECT string_agg(tag, ' ')
       FROM jsonb_array_elements_text(
         CASE WHEN jsonb_typeof(metadata -> 'tags') = 'array' THEN metadata -> 'tags' ELSE '[]'::jsonb END
       ) AS tag))
WHERE search_text = '';
ALTER TABLE schemas ENABLE TRIGGER schemas_updated_at;

CREATE MATERIALIZED VIEW subject_versions AS
WITH per_subject AS (
  SELECT
    subject,
    count(*)::integer AS version_count,
    count(*) FILTER (WHERE state = 'active')::integer AS active_count,
    count(*) FILTER (WHERE state = 'deprecated')::integer AS deprecated_count,
    min(created_at) AS created_at,
    max(updated_at) AS updated_at
  FROM schemas
  WHERE deleted_at IS NULL
  GROUP BY subject
)
SELECT
  p.subject,
  p.version_count,
  p.active_count,
  p.deprecated_count,
  latest.version AS latest_version,
  latest.global_id AS latest_global_id,
  p.created_at,
  p.updated_at
FROM per_subject AS p
LEFT JOIN LATERAL (
  SELECT l.version, l.global_id
  FROM schemas AS l
  WHERE l.subject = p.subject
    AND l.deleted_at IS NULL
    AND l.state IN ('active', 'deprecated')
  ORDER BY l.version_sort DESC
  LIMIT 1
) AS latest ON true;

CREATE UNIQUE INDEX subject_versions_subject_idx ON subject_versions (subject);

CREATE INDEX schemas_search_text_trgm_idx ON schemas USING gin (search_text gin_trgm_ops);
CREATE INDEX schemas_subject_trgm_idx ON schemas USING gin (subject gin_trgm_ops);
CREATE INDEX schemas_metadata_idx ON schemas USING gin (metadata jsonb_path_ops);
CREATE INDEX schemas_owner_idx ON schemas ((metadata ->> 'owner'))
  WHERE deleted_at IS NULL;
CREATE INDEX schemas_live_created_idx ON schemas (created_at DESC, global_id DESC)
  WHERE deleted_at IS NULL;
