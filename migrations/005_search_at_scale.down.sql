-- 005_search_at_scale, reverted: the search table, its vocabulary and the
-- trigger that fills them go. Search falls back to 001's trigram columns,
-- which the up migration left in place and kept current.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER schemas_search ON schemas;
DROP FUNCTION registry_schemas_search();
DROP TABLE search_words;
DROP TABLE schema_search;
DROP FUNCTION registry_search_document(text, jsonb);
DROP FUNCTION registry_metadata_tags(jsonb);
DROP FUNCTION registry_subject_words(text);
