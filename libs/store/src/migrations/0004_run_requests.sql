-- Idempotency keys of TriggerRun (written by the api service): a repeated request_id for the same
-- workflow within 24 hours returns the run the first request created. A key older than that is
-- replaced when reused. Deleting the run (or its workflow) deletes its key.
CREATE TABLE run_requests (
  workflow_id text NOT NULL,
  request_id  text NOT NULL,
  run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX run_requests_key ON run_requests (workflow_id, request_id);
CREATE INDEX run_requests_run ON run_requests (run_id);
