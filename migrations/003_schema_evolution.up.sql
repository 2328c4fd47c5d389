-- 003_schema_evolution: compatibility settings (global and per subject), the
-- content exactly as registered, and a register that refuses to commit when
-- the subject gained a version after the caller checked it.
--
-- Safe on a live database: a nullable column without a default and a NOT VALID
-- constraint change the catalog only (no rewrite, no scan of `schemas`), and
-- no index is built. The ACCESS EXCLUSIVE lock they need is brief, but while
-- it waits behind a long query every other statement on `schemas` would queue
-- behind it: lock_timeout makes the migration fail (and the instance retry at
-- its next start) rather than stall the registry.
SET LOCAL lock_timeout = '5s';

-- The global settings: one row. `compatibility` NULL means "the server's
-- configured default"; the API's PUT writes it.
CREATE TABLE global_config (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  compatibility text CHECK (compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
    'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
  semver_policy text CHECK (semver_policy IN ('advise', 'enforce')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A subject's own settings; a NULL column falls back to the global one.
CREATE TABLE subject_config (
  subject text PRIMARY KEY CHECK (char_length(subject) BETWEEN 1 AND 255),
  compatibility text CHECK (compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
    'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
  semver_policy text CHECK (semver_policy IN ('advise', 'enforce')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The content as the client registered it, as JSON text (a .proto source as a
-- JSON string): JSONB reorders object keys, and the order of `properties` is
-- what LLM structured outputs generate in. NULL for rows written before this
-- migration (served from `content`) and for object-store rows.
ALTER TABLE schemas ADD COLUMN content_text text;
-- Reads serve content_text first, so an object-store row carrying one would
-- read as inline content. NOT VALID: the rows already there all have NULL, and
-- validating would scan the table under the lock above.
ALTER TABLE schemas ADD CONSTRAINT schemas_content_text_inline
  CHECK (content_text IS NULL OR content_location = 'inline') NOT VALID;

-- Registration with the version decided by the application (from the
-- compatibility verdict), guarded by the subject's head: p_expected_head is
-- the highest global_id of the subject's rows when the caller checked it
-- (0 for a subject without rows). Under the subject's lock it answers
--   'found'    the live schema with the same content,
--   'stale'    the subject's head moved since the check (check again),
--   'clash'    the schema already holding the version, or
--   'created'  the new row with its first history entry.
-- A 'found' row carries content_text when it has one and its JSONB content
-- only otherwise (one copy of a large schema on the wire, not two).
--
-- The previous release's registry_register (twelve arguments, deriving the
-- version itself) stays beside this one: during a rolling deploy its
-- instances keep registering after the new ones have migrated. Drop it once no
-- instance of that release runs.

CREATE FUNCTION registry_register(
  p_subject text, p_version text, p_version_key text, p_version_sort text,
  p_schema_type text, p_state text, p_content jsonb, p_content_text text, p_content_hash text,
  p_content_size integer, p_content_location text, p_content_key text, p_metadata jsonb,
  p_expected_head bigint
) RETURNS TABLE (
  outcome text, id uuid, global_id bigint, subject text, version text, schema_type text, state text,
  content jsonb, content_text text, content_hash text, content_size integer, content_location text,
  content_key text, metadata jsonb, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r schemas%ROWTYPE;
  head bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_subject, 0));

  SELECT * INTO r FROM schemas AS s
  WHERE s.subject = p_subject AND s.content_hash = p_content_hash AND s.deleted_at IS NULL
  ORDER BY s.version_sort DESC
  LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'found'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
      CASE WHEN r.content_text IS NULL THEN r.content END, r.content_text, r.content_hash, r.content_size,
      r.content_location, r.content_key, r.metadata, r.created_at, r.updated_at, r.deleted_at;
    RETURN;
  END IF;

  IF p_expected_head IS NOT NULL THEN
    -- `+ 0` keeps the planner off max()'s shortcut, a backward walk of
    -- schemas_global_id_key filtering on the subject: it picks that for a
    -- subject with many rows and then passes every newer row of the table
    -- (8 ms at 60,000 rows, growing with the table, under the subject's lock).
    -- The subject's own rows, through its index, are a few heap pages.
    SELECT coalesce(max(s.global_id + 0), 0) INTO head FROM schemas AS s WHERE s.subject = p_subject;
    IF head <> p_expected_head THEN
      RETURN QUERY SELECT 'stale'::text, NULL::uuid, head, p_subject, NULL::text, NULL::text, NULL::text,
        NULL::jsonb, NULL::text, NULL::text, NULL::integer, NULL::text, NULL::text, NULL::jsonb,
        NULL::timestamptz, NULL::timestamptz, NULL::timestamptz;
      RETURN;
    END IF;
  END IF;

  SELECT * INTO r FROM schemas AS s WHERE s.subject = p_subject AND s.version_key = p_version_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'clash'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
      NULL::jsonb, NULL::text, r.content_hash, r.content_size, r.content_location, r.content_key,
      r.metadata, r.created_at, r.updated_at, r.deleted_at;
    RETURN;
  END IF;

  INSERT INTO schemas (subject, version, version_key, version_sort, schema_type, state, content,
                       content_text, content_hash, content_size, content_location, content_key, metadata)
  VALUES (p_subject, p_version, p_version_key, p_version_sort, p_schema_type, p_state, p_content,
          p_content_text, p_content_hash, p_content_size, p_content_location, p_content_key, p_metadata)
  RETURNING * INTO r;
  INSERT INTO schema_state_history (schema_id, from_state, to_state) VALUES (r.id, NULL, r.state);
  RETURN QUERY SELECT 'created'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
    NULL::jsonb, NULL::text, r.content_hash, r.content_size, r.content_location, r.content_key,
    r.metadata, r.created_at, r.updated_at, r.deleted_at;
END
$$;
