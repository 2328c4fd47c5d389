-- Reverts 001_initial_schema. pg_trgm stays installed: extensions are
-- database-wide and something else in the database may rely on it.
DROP FUNCTION IF EXISTS registry_register(text, text, text, text, text, text, jsonb, text, integer, text, text, jsonb);
DROP FUNCTION IF EXISTS registry_number_key(numeric);
DROP TABLE IF EXISTS schema_state_history;
DROP TABLE IF EXISTS schemas;
DROP FUNCTION IF EXISTS registry_touch_updated_at();
DROP FUNCTION IF EXISTS registry_schemas_search_text();
