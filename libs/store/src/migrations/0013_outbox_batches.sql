-- One scheduler write sends its dispatches as ONE outbox row (`batch`): the payload frames every
-- message (outbox-batch.ts), instead of one row per message inserted and deleted again a few
-- milliseconds later (a 5,000-task run's creation wrote 5,000 rows, their index entries and their
-- WAL). Rows written one message each (slot admission, older schedulers) keep `batch` false.
ALTER TABLE outbox ADD COLUMN batch boolean NOT NULL DEFAULT false;
-- A batch is large, short-lived and read back only after a crash: kept out of line uncompressed
-- (compressing it would cost more than it saves before the row is deleted).
ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
