-- Skein's schema. Ownership (ARCHITECTURE.md): the api service writes workflows and versions; the
-- scheduler writes runs, task runs, attempts and the outbox; the log-collector writes the log tables.

CREATE TABLE workflows (
  id              text PRIMARY KEY,
  current_version integer NOT NULL,
  labels          jsonb NOT NULL DEFAULT '{}',
  schedule        text,
  paused          boolean NOT NULL DEFAULT false,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
);

-- Immutable: a row is never updated. Runs point at the version they started with.
CREATE TABLE workflow_versions (
  workflow_id text NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version     integer NOT NULL,
  spec        jsonb NOT NULL,
  digest      text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

CREATE TABLE runs (
  id               text PRIMARY KEY,
  workflow_id      text NOT NULL,
  workflow_version integer NOT NULL,
  state            text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  trigger          text NOT NULL,
  params           jsonb NOT NULL DEFAULT '{}',
  logical_date     timestamptz NOT NULL,
  create_time      timestamptz NOT NULL DEFAULT now(),
  start_time       timestamptz,
  end_time         timestamptz,
  reason           text NOT NULL DEFAULT '',
  -- W3C traceparent of the call that created the run (the run's span links to it), or ''.
  traceparent      text NOT NULL DEFAULT '',
  -- Counts kept by every transaction that changes a task's state, so an event never re-reads the
  -- whole run: tasks not yet terminal, and terminal tasks that failed (or upstream_failed) or were cancelled.
  unfinished_tasks integer NOT NULL DEFAULT 0,
  failed_tasks     integer NOT NULL DEFAULT 0,
  cancelled_tasks  integer NOT NULL DEFAULT 0,
  -- False while the run waits for a slot under its workflow's maxActiveRuns (state stays 'queued').
  admitted         boolean NOT NULL DEFAULT true,
  FOREIGN KEY (workflow_id, workflow_version) REFERENCES workflow_versions (workflow_id, version)
);
CREATE INDEX runs_by_time ON runs (create_time DESC, id DESC);
CREATE INDEX runs_by_workflow_time ON runs (workflow_id, create_time DESC, id DESC);
CREATE INDEX runs_active ON runs (workflow_id) WHERE state IN ('queued', 'running');
CREATE INDEX runs_waiting ON runs (workflow_id, logical_date) WHERE NOT admitted AND state = 'queued';
-- A schedule creates one run per (workflow, logical date), whichever scheduler replica gets there first.
CREATE UNIQUE INDEX runs_scheduled_once ON runs (workflow_id, logical_date) WHERE trigger = 'schedule';

CREATE TABLE task_runs (
  run_id          text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task            text NOT NULL,
  position        integer NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'queued', 'running', 'succeeded', 'failed',
                    'up_for_retry', 'skipped', 'upstream_failed', 'cancelled')),
  current_attempt integer NOT NULL DEFAULT 0,
  -- Attempts that ran and failed: the retry budget counts these. An attempt lost before it ever
  -- started (its dispatch was handed back, or its executor died first) does not count.
  failed_attempts integer NOT NULL DEFAULT 0,
  retry_at        timestamptz,
  -- Outcomes of this task's upstream tasks so far: its trigger rule is evaluated from these counts
  -- when an upstream ends, without reading the upstream rows (a fan-in of 1,000 costs O(1) per event).
  upstream_total           integer NOT NULL DEFAULT 0,
  upstream_succeeded       integer NOT NULL DEFAULT 0,
  upstream_failed          integer NOT NULL DEFAULT 0,
  upstream_upstream_failed integer NOT NULL DEFAULT 0,
  upstream_skipped         integer NOT NULL DEFAULT 0,
  upstream_cancelled       integer NOT NULL DEFAULT 0,
  start_time      timestamptz,
  end_time        timestamptz,
  PRIMARY KEY (run_id, task)
);
CREATE INDEX task_runs_retry_due ON task_runs (retry_at) WHERE state = 'up_for_retry';

CREATE TABLE attempts (
  id          text PRIMARY KEY,
  run_id      text NOT NULL,
  task        text NOT NULL,
  number      integer NOT NULL,
  state       text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'lost', 'cancelled')),
  exit_code   integer,
  reason      text NOT NULL DEFAULT '',
  message     text NOT NULL DEFAULT '',
  outputs     jsonb,
  executor    text NOT NULL DEFAULT '',
  queue_time  timestamptz NOT NULL DEFAULT now(),
  start_time  timestamptz,
  end_time    timestamptz,
  UNIQUE (run_id, task, number),
  FOREIGN KEY (run_id, task) REFERENCES task_runs (run_id, task) ON DELETE CASCADE
);

-- Messages committed with the state change that caused them; published after commit, deleted once sent.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  subject     text NOT NULL,
  msg_id      text NOT NULL,
  payload     bytea NOT NULL,
  headers     jsonb NOT NULL DEFAULT '{}',
  create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log_attempts (
  attempt_id   text PRIMARY KEY,
  stored_count bigint NOT NULL DEFAULT 0,
  final_count  bigint,
  update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log_lines (
  attempt_id text NOT NULL,
  seq        bigint NOT NULL,
  stream     smallint NOT NULL,
  time       timestamptz NOT NULL,
  text       text NOT NULL,
  PRIMARY KEY (attempt_id, seq)
);
