-- 007_audit_log: who changed what, and when. One row per write the registry
-- acknowledged (a register that created a version, a state change, a delete,
-- a change of settings, mode or API keys), inserted in the same transaction
-- as the write itself, so a write that rolls back leaves no row and no
-- committed write lacks one. Rows are never updated; the retention setting
-- (AUDIT_RETENTION_DAYS) deletes the old ones by `at`.
--
-- No foreign key to `schemas`: a permanent delete removes the row the entry
-- is about, and its entry must outlive it. `hash_before` / `hash_after` are
-- the content hashes of what the write replaced and what it left (null where
-- there is none: before a subject's first version, after a delete, and for
-- settings, whose old and new values are in `details`).
SET LOCAL lock_timeout = '5s';

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_id text NOT NULL,
  actor_kind text NOT NULL,
  request_id text,
  operation text NOT NULL,
  subject text,
  version text,
  subject_version integer,
  schema_id uuid,
  content_id bigint,
  hash_before text,
  hash_after text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Newest first under each filter: the list pages by id, descending.
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id DESC) WHERE subject IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC);
-- `since` and the retention's delete.
CREATE INDEX audit_log_at_idx ON audit_log (at);
