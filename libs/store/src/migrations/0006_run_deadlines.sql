-- Run timeouts: when a run that is still going fails with RUN_TIMEOUT (set when it is admitted).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS deadline timestamptz;
CREATE INDEX IF NOT EXISTS runs_deadline ON runs (deadline) WHERE deadline IS NOT NULL AND state IN ('queued', 'running');
