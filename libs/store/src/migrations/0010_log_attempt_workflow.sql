-- Per-workflow log retention (`spec.logRetentionDays`): each attempt's log records its workflow, set by
-- the first batch stored. NULL for logs stored before this migration: the collector-wide default applies.
ALTER TABLE log_attempts ADD COLUMN workflow text;

-- One workflow's expired attempts, oldest first.
CREATE INDEX log_attempts_workflow_update_time ON log_attempts (workflow, update_time);
