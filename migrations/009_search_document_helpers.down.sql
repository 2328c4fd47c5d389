-- 009_search_document_helpers, reverted: migration 005's SQL helpers come back
-- (same answers, planned again in every transaction that calls them from PL/pgSQL),
-- and registry_live_referrers goes (the previous release's soft delete does not call it).
DROP FUNCTION registry_live_referrers(text, integer);

CREATE OR REPLACE FUNCTION registry_subject_words(p_subject text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_agg(CASE WHEN parts = segment THEN segment ELSE segment || ' ' || parts END, ' ')
  FROM (
    SELECT segment, regexp_replace(regexp_replace(segment, '([a-z0-9])([A-Z])', '\1 \2', 'g'),
                                   '([A-Z]+)([A-Z][a-z])', '\1 \2', 'g') AS parts
    FROM regexp_split_to_table(p_subject, '[._/:]+') AS segment
  ) AS t
$$;

CREATE OR REPLACE FUNCTION registry_metadata_tags(p_metadata jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(tag), '{}')
  FROM jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(p_metadata -> 'tags') = 'array' THEN p_metadata -> 'tags' ELSE '[]'::jsonb END
  ) AS tag
$$;
