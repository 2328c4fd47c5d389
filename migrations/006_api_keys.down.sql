-- 006_api_keys down: every API key is gone; callers need the bootstrap key again.
DROP TABLE IF EXISTS api_keys;
