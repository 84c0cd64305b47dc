-- Indexes of the scheduler's sweeps.
-- The queued-timeout sweep: attempts no executor has taken yet, oldest first.
CREATE INDEX IF NOT EXISTS attempts_queued ON attempts (queue_time) WHERE state = 'queued';
-- The lost-attempt sweep: attempts running somewhere.
CREATE INDEX IF NOT EXISTS attempts_running ON attempts (start_time) WHERE state = 'running';
