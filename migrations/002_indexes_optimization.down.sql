-- Reverts 002_indexes_optimization.
DROP MATERIALIZED VIEW IF EXISTS subject_versions;
DROP MATERIALIZED VIEW IF EXISTS popular_schemas;
DROP TABLE IF EXISTS schema_access_log;
DROP INDEX IF EXISTS schemas_deleted_idx;
DROP INDEX IF EXISTS schemas_live_created_idx;
DROP INDEX IF EXISTS schemas_owner_idx;
DROP INDEX IF EXISTS schemas_live_content_idx;
DROP INDEX IF EXISTS schemas_latest_idx;
DROP INDEX IF EXISTS schemas_live_subject_idx;
