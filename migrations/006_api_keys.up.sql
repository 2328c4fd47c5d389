-- 006_api_keys: the API keys callers authenticate with (src/http/auth/).
-- A key is `<id>.<secret>`: the id is public (it names the key in lists, in
-- the audit log and as the user of HTTP Basic), the secret is 32 random bytes
-- shown once at creation. Only the SHA-256 of the secret is kept: a fast hash
-- suffices because the secret is high-entropy random, not a password a person
-- chose, so no dictionary or brute force can reach it, and it keeps a
-- verification cheap. Revoking a key deletes its row.
--
-- `subjects` holds the subject prefixes the key is limited to; NULL means
-- every subject. `expires_at` NULL means the key does not expire.
SET LOCAL lock_timeout = '5s';

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  role text NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
  subjects text[] CHECK (subjects IS NULL OR cardinality(subjects) > 0),
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
);
