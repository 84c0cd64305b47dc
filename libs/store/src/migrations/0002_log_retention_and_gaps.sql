-- The log-collector's periodic jobs: retention deletes attempts whose log has not changed for
-- `retentionDays`; the gap check flags attempts whose final count is known but whose lines are missing.
ALTER TABLE log_attempts ADD COLUMN gap_detect_time timestamptz;

CREATE INDEX log_attempts_update_time ON log_attempts (update_time);

CREATE INDEX log_attempts_incomplete ON log_attempts (update_time)
  WHERE final_count IS NOT NULL AND stored_count < final_count AND gap_detect_time IS NULL;
