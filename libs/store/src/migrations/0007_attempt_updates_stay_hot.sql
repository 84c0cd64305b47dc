-- 0005's partial indexes on attempts.state made every attempt state change a non-HOT update that writes
-- every index of the table (a column in an index predicate counts as indexed) — on the scheduler's hot
-- path. The sweeps reach queued and running attempts through the active runs instead (runs_active).
DROP INDEX IF EXISTS attempts_queued;
DROP INDEX IF EXISTS attempts_running;
