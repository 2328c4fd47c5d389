-- 005_search_at_scale, reverted: the search table, its vocabulary and the
-- triggers that fill them go. The previous release's search reads 001's
-- trigram column, which the up migration left in place and kept current.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER schemas_search_update ON schemas;
DROP TRIGGER schemas_search_insert ON schemas;
DROP FUNCTION registry_schemas_search_update();
DROP FUNCTION registry_schemas_search_insert();
DROP TABLE search_words;
DROP TABLE schema_search;
DROP FUNCTION registry_search_document(text, jsonb);
DROP FUNCTION registry_metadata_tags(jsonb);
DROP FUNCTION registry_subject_words(text);
