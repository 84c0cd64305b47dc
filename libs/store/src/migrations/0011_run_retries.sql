-- How often a run was retried in place (`skein runs retry`) and when the latest retry began: the span of
-- each retry is recorded apart from the run's own (one span id per run and retry, never reused).
ALTER TABLE runs ADD COLUMN retries integer NOT NULL DEFAULT 0, ADD COLUMN retry_time timestamptz;
