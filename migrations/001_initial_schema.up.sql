-- 001_initial_schema: the schema registry's tables, their base indexes, and the
-- triggers that keep derived columns right. Runs on PostgreSQL 15+ and on PGlite.

-- Trigram matching for fuzzy search and for `*` subject patterns. pg_trgm is a
-- trusted extension, so a database owner may install it without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE schemas (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Registry-wide number served by `/schemas/{global_id}`; an identity is never
  -- reused, even after a permanent delete or a rolled-back insert.
  global_id bigint GENERATED ALWAYS AS IDENTITY,
  subject text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
  -- As registered, build metadata included.
  version text NOT NULL CHECK (char_length(version) BETWEEN 5 AND 128),
  -- The version without build metadata: the identity of a version. A plain
  -- column (computed by the application's semver parser) so uniqueness is an
  -- ordinary constraint rather than one over expressions.
  version_key text NOT NULL,
  -- Byte order equals semver precedence (see src/domain/semver.ts), hence "C".
  version_sort text COLLATE "C" NOT NULL,
  schema_type text NOT NULL CHECK (schema_type IN ('json', 'avro', 'protobuf')),
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('draft', 'active', 'deprecated', 'archived')),
  -- The canonical content; protobuf source is a JSON string. NULL when the
  -- content lives in the object store.
  content jsonb,
  content_hash text NOT NULL CHECK (content_hash ~ '^sha256:[0-9a-f]{64}$'),
  content_size integer NOT NULL CHECK (content_size >= 0),
  content_location text NOT NULL DEFAULT 'inline' CHECK (content_location IN ('inline', 'object_store')),
  content_key text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  -- Subject, description and tags in one string for pg_trgm; kept by a trigger.
  search_text text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT schemas_global_id_key UNIQUE (global_id),
  CONSTRAINT schemas_subject_version_key UNIQUE (subject, version_key),
  CONSTRAINT schemas_content_placement CHECK (
    (content_location = 'inline' AND content IS NOT NULL AND content_key IS NULL)
    OR (content_location = 'object_store' AND content IS NULL AND content_key IS NOT NULL)
  )
);

COMMENT ON TABLE schemas IS 'One row per registered schema version; soft-deleted rows keep their version taken.';

CREATE TABLE schema_state_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  schema_id uuid NOT NULL REFERENCES schemas (id) ON DELETE CASCADE,
  -- NULL for the state a schema was registered in.
  from_state text CHECK (from_state IN ('draft', 'active', 'deprecated', 'archived')),
  to_state text NOT NULL CHECK (to_state IN ('draft', 'active', 'deprecated', 'archived')),
  reason text CHECK (char_length(reason) <= 1024),
  -- clock_timestamp so that several transitions in one transaction keep their order.
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX schema_state_history_schema_idx ON schema_state_history (schema_id, changed_at, id);

-- Version assignment looks at every row of a subject, deleted ones included,
-- so that an assigned version never collides with a soft-deleted one.
CREATE INDEX schemas_subject_version_sort_idx ON schemas (subject, version_sort DESC);
-- Fuzzy search over subject, description and tags (`%`, `<%`, ILIKE).
CREATE INDEX schemas_search_text_trgm_idx ON schemas USING gin (search_text gin_trgm_ops);
-- `*` patterns on the subject become LIKE, which a trigram index serves.
CREATE INDEX schemas_subject_trgm_idx ON schemas USING gin (subject gin_trgm_ops);
-- Tag and metadata containment (`metadata @> ...`).
CREATE INDEX schemas_metadata_idx ON schemas USING gin (metadata jsonb_path_ops);

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

CREATE FUNCTION registry_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER schemas_updated_at
  BEFORE UPDATE ON schemas
  FOR EACH ROW EXECUTE FUNCTION registry_touch_updated_at();

-- The sort key of a number, as numberKey() in src/domain/semver.ts writes it:
-- its length in three digits, then its digits.
CREATE FUNCTION registry_number_key(n numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT lpad(length(n::text)::text, 3, '0') || n::text
$$;

-- Registration as one statement: one round trip, and one transaction of its
-- own when called outside one. Under a transaction-scoped advisory lock on the
-- subject (so concurrent registers of a subject run one after another, each
-- statement below seeing every register that committed before it), it answers
--   'found'    the live schema with the same content (its content included),
--   'clash'    the schema already holding the requested version, or
--   'created'  the new row, with its first history entry (content left out:
--              the caller has it).
-- Version, key and sort key come from the application's semver parser. With no
-- version, the next minor of the subject's highest version (deleted ones
-- included, so it never collides) is derived here under the lock: X.(Y+1).0,
-- whose sort key is a release's as versionSortKey() writes it.
CREATE FUNCTION registry_register(
  p_subject text, p_version text, p_version_key text, p_version_sort text,
  p_schema_type text, p_state text, p_content jsonb, p_content_hash text,
  p_content_size integer, p_content_location text, p_content_key text, p_metadata jsonb
) RETURNS TABLE (
  outcome text, id uuid, global_id bigint, subject text, version text, schema_type text, state text,
  content jsonb, content_hash text, content_size integer, content_location text, content_key text,
  metadata jsonb, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r schemas%ROWTYPE;
  highest text;
  major numeric;
  minor numeric;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_subject, 0));

  SELECT * INTO r FROM schemas AS s
  WHERE s.subject = p_subject AND s.content_hash = p_content_hash AND s.deleted_at IS NULL
  ORDER BY s.version_sort DESC
  LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'found'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
      r.content, r.content_hash, r.content_size, r.content_location, r.content_key, r.metadata,
      r.created_at, r.updated_at, r.deleted_at;
    RETURN;
  END IF;

  IF p_version IS NULL THEN
    SELECT s.version_key INTO highest FROM schemas AS s
    WHERE s.subject = p_subject
    ORDER BY s.version_sort DESC
    LIMIT 1;
    IF highest IS NULL THEN
      major := 1;
      minor := 0;
    ELSE
      major := split_part(highest, '.', 1)::numeric;
      minor := split_part(highest, '.', 2)::numeric + 1;
    END IF;
    p_version := major::text || '.' || minor::text || '.0';
    p_version_key := p_version;
    p_version_sort := registry_number_key(major) || '.' || registry_number_key(minor) || '.'
      || registry_number_key(0) || '~';
  ELSE
    SELECT * INTO r FROM schemas AS s WHERE s.subject = p_subject AND s.version_key = p_version_key;
    IF FOUND THEN
      RETURN QUERY SELECT 'clash'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
        NULL::jsonb, r.content_hash, r.content_size, r.content_location, r.content_key, r.metadata,
        r.created_at, r.updated_at, r.deleted_at;
      RETURN;
    END IF;
  END IF;

  INSERT INTO schemas (subject, version, version_key, version_sort, schema_type, state, content,
                       content_hash, content_size, content_location, content_key, metadata)
  VALUES (p_subject, p_version, p_version_key, p_version_sort, p_schema_type, p_state, p_content,
          p_content_hash, p_content_size, p_content_location, p_content_key, p_metadata)
  RETURNING * INTO r;
  INSERT INTO schema_state_history (schema_id, from_state, to_state) VALUES (r.id, NULL, r.state);
  RETURN QUERY SELECT 'created'::text, r.id, r.global_id, r.subject, r.version, r.schema_type, r.state,
    NULL::jsonb, r.content_hash, r.content_size, r.content_location, r.content_key, r.metadata,
    r.created_at, r.updated_at, r.deleted_at;
END
$$;
