-- 004_confluent_identity, reverted: the content ids, integer versions,
-- references and modes go, and 003's state is back as it was (its register
-- was left in place by the up migration). Rows registered since stay, with
-- their semantic versions; references they made are lost.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION registry_register(text, text, text, text, text, text, jsonb, text, text, integer, text, text,
  jsonb, bigint, jsonb, text, bigint, integer);
DROP TRIGGER schemas_identity ON schemas;
DROP FUNCTION registry_schemas_identity();
DROP FUNCTION registry_content_id(text, text, text, bigint);

ALTER TABLE subject_config DROP COLUMN mode;
ALTER TABLE global_config DROP COLUMN mode;

-- Their indexes and constraints go with them.
ALTER TABLE schemas DROP COLUMN "references";
ALTER TABLE schemas DROP COLUMN subject_version;
ALTER TABLE schemas DROP COLUMN content_id;
DROP TABLE schema_contents;
DROP FUNCTION registry_content_guid(text, text, text);
