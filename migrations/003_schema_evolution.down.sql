-- 003_schema_evolution, reverted: the settings, the as-registered content and
-- the head-guarded register go. The previous register (twelve arguments) was
-- left in place by the up migration, so 002's state is back as it was. Rows
-- registered since keep their JSONB content; the text as registered is lost.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION registry_register(text, text, text, text, text, text, jsonb, text, text, integer, text, text, jsonb, bigint);

-- Takes schemas_content_text_inline with it.
ALTER TABLE schemas DROP COLUMN content_text;
DROP TABLE subject_config;
DROP TABLE global_config;
