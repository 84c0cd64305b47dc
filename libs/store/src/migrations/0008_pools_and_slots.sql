-- A backfill's own limit (`skein backfill --max-active N`): its runs share an id and wait (not admitted)
-- while N of them are active, like runs under maxActiveRuns.
ALTER TABLE runs ADD COLUMN backfill_id text, ADD COLUMN backfill_max_active integer;
CREATE INDEX runs_backfill_active ON runs (backfill_id) WHERE backfill_id IS NOT NULL AND state IN ('queued', 'running');

-- Concurrency limits: pools (`kind: Pool`) and a workflow's maxActiveTasks. A task under a limit
-- waits for a slot (task run state 'scheduled', a row in slot_waits holding its built dispatch) and,
-- once admitted, holds a lease until its attempt ends. Admission is serialised by one advisory lock,
-- so limits hold across scheduler replicas.
CREATE TABLE pools (
  name        text PRIMARY KEY,
  slots       integer NOT NULL CHECK (slots >= 0),
  description text NOT NULL DEFAULT '',
  labels      jsonb NOT NULL DEFAULT '{}',
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE task_runs DROP CONSTRAINT task_runs_state_check;
ALTER TABLE task_runs ADD CONSTRAINT task_runs_state_check CHECK (state IN ('pending', 'scheduled', 'queued', 'running',
  'succeeded', 'failed', 'up_for_retry', 'skipped', 'upstream_failed', 'cancelled'));

-- A task waiting for a slot. Its attempt id and number are reserved; its dispatch is built (templates
-- rendered) when it starts waiting and published unchanged when it is admitted.
CREATE TABLE slot_waits (
  attempt_id       text PRIMARY KEY,
  run_id           text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task             text NOT NULL,
  number           integer NOT NULL,
  workflow_id      text NOT NULL,
  -- NULL: the task names no pool (it waits for maxActiveTasks only).
  pool             text,
  pool_slots       integer NOT NULL,
  -- The workflow version's maxActiveTasks when the task started waiting; NULL: none.
  max_active_tasks integer,
  priority         integer NOT NULL,
  -- The task's own queuedTimeout, in ms, counted from admission; NULL: the scheduler's default.
  queued_timeout_ms integer,
  wait_time        timestamptz NOT NULL,
  subject          text NOT NULL,
  msg_id           text NOT NULL,
  payload          bytea NOT NULL,
  headers          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX slot_waits_by_pool ON slot_waits (pool, priority DESC, wait_time, attempt_id) WHERE pool IS NOT NULL;
CREATE INDEX slot_waits_by_workflow ON slot_waits (workflow_id, priority DESC, wait_time, attempt_id) WHERE pool IS NULL;
CREATE INDEX slot_waits_run ON slot_waits (run_id);

-- A slot held by an attempt that is queued or running; deleted when the attempt ends.
CREATE TABLE slot_leases (
  attempt_id   text PRIMARY KEY,
  run_id       text NOT NULL,
  workflow_id  text NOT NULL,
  pool         text,
  pool_slots   integer NOT NULL,
  -- Counts against the workflow's maxActiveTasks.
  limits_workflow boolean NOT NULL,
  grant_time   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slot_leases_pool ON slot_leases (pool) WHERE pool IS NOT NULL;
CREATE INDEX slot_leases_workflow ON slot_leases (workflow_id) WHERE limits_workflow;

-- Queued attempts of tasks with their own `queuedTimeout` (the rest use the scheduler's default): the
-- queued-timeout sweep fails them at `deadline`. Rows of attempts no longer queued are pruned by it.
CREATE TABLE attempt_queue_deadlines (
  attempt_id text PRIMARY KEY,
  deadline   timestamptz NOT NULL,
  timeout_ms integer NOT NULL
);
CREATE INDEX attempt_queue_deadlines_due ON attempt_queue_deadlines (deadline);
