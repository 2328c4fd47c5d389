-- 007_audit_log, reverted: the audit log goes with every entry in it.
SET LOCAL lock_timeout = '5s';

DROP TABLE audit_log;
