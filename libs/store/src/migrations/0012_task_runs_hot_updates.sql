-- Task runs are updated by nearly every event (state, upstream counters). The retry index's predicate
-- named `state`, so every state change was a non-HOT update: a new entry in every index of the table
-- (its primary key too) for each update, and bloat the hot path then reads through. `retry_at` is set
-- exactly while a task run is up for retry (cleared when it is queued, ends or is cancelled), so the
-- index can say that instead; with room left on each page, updates that change no indexed value stay
-- on their page and touch no index.
DROP INDEX task_runs_retry_due;
CREATE INDEX task_runs_retry_due ON task_runs (retry_at) WHERE retry_at IS NOT NULL;
ALTER TABLE task_runs SET (fillfactor = 70);
