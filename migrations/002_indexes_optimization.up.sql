-- 002_indexes_optimization: indexes shaped after the read paths, the access log,
-- and the two materialized views. Index predicates hold only immutable
-- expressions (no NOW()), and each view has a UNIQUE index so that
-- REFRESH MATERIALIZED VIEW CONCURRENTLY can run beside readers.
-- locks: schemas (SHARE while six indexes are built without CONCURRENTLY: registers, state changes and deletes wait, reads go on; grows with the rows)

-- listVersions / listSubjects: live versions of a subject, newest first.
CREATE INDEX schemas_live_subject_idx ON schemas (subject, version_sort DESC)
  INCLUDE (state)
  WHERE deleted_at IS NULL;

-- getLatest: the highest live version in a state `latest` may answer with.
CREATE INDEX schemas_latest_idx ON schemas (subject, version_sort DESC)
  INCLUDE (version)
  WHERE deleted_at IS NULL AND state IN ('active', 'deprecated');

-- Idempotent register: is this content already live under the subject?
CREATE INDEX schemas_live_content_idx ON schemas (subject, content_hash)
  INCLUDE (version_sort)
  WHERE deleted_at IS NULL;

-- Search filter on the owner (an expression over the metadata document).
CREATE INDEX schemas_owner_idx ON schemas ((metadata ->> 'owner'))
  WHERE deleted_at IS NULL;

-- Search sorted by creation time over live rows.
CREATE INDEX schemas_live_created_idx ON schemas (created_at DESC, global_id DESC)
  WHERE deleted_at IS NULL;

-- Soft-deleted rows are few: statistics and purges find them here.
CREATE INDEX schemas_deleted_idx ON schemas (deleted_at)
  WHERE deleted_at IS NOT NULL;

-- Reads per schema per hour. The application counts reads in memory and
-- upserts them in batches, so a read never waits on this table.
CREATE TABLE schema_access_log (
  schema_id uuid NOT NULL REFERENCES schemas (id) ON DELETE CASCADE,
  bucket timestamptz NOT NULL,
  reads bigint NOT NULL CHECK (reads > 0),
  PRIMARY KEY (schema_id, bucket)
);

CREATE INDEX schema_access_log_bucket_idx ON schema_access_log (bucket) INCLUDE (schema_id, reads);

-- Schemas ranked by reads over the last 7 days. now() is evaluated when the
-- view is refreshed, which the application does on a schedule.
CREATE MATERIALIZED VIEW popular_schemas AS
SELECT
  a.schema_id,
  s.subject,
  s.version,
  sum(a.reads)::bigint AS reads,
  rank() OVER (ORDER BY sum(a.reads) DESC)::integer AS rank
FROM schema_access_log AS a
JOIN schemas AS s ON s.id = a.schema_id
WHERE a.bucket >= now() - interval '7 days'
  AND s.deleted_at IS NULL
GROUP BY a.schema_id, s.subject, s.version;

CREATE UNIQUE INDEX popular_schemas_schema_id_idx ON popular_schemas (schema_id);
CREATE INDEX popular_schemas_reads_idx ON popular_schemas (reads DESC, schema_id);

-- One row per live subject: its version count and latest version (the rule of
-- `.../versions/latest`). Aggregates first, then one index probe per subject
-- for the latest version, instead of an aggregate nested in another.
CREATE MATERIALIZED VIEW subject_versions AS
WITH per_subject AS (
  SELECT
    subject,
    count(*)::integer AS version_count,
    count(*) FILTER (WHERE state = 'active')::integer AS active_count,
    count(*) FILTER (WHERE state = 'deprecated')::integer AS deprecated_count,
    min(created_at) AS created_at,
    max(updated_at) AS updated_at
  FROM schemas
  WHERE deleted_at IS NULL
  GROUP BY subject
)
SELECT
  p.subject,
  p.version_count,
  p.active_count,
  p.deprecated_count,
  latest.version AS latest_version,
  latest.global_id AS latest_global_id,
  p.created_at,
  p.updated_at
FROM per_subject AS p
LEFT JOIN LATERAL (
  SELECT l.version, l.global_id
  FROM schemas AS l
  WHERE l.subject = p.subject
    AND l.deleted_at IS NULL
    AND l.state IN ('active', 'deprecated')
  ORDER BY l.version_sort DESC
  LIMIT 1
) AS latest ON true;

CREATE UNIQUE INDEX subject_versions_subject_idx ON subject_versions (subject);
