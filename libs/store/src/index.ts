export { createPool, withTransaction, type Queryable, type CreatePoolOptions } from './db';
export { migrate, loadMigrations, type Migration } from './migrate';
export { StoreError, NotFoundError, MigrationError, isNotFound } from './errors';
export {
  getWorkflow, listWorkflows, getWorkflowVersion, insertWorkflowIfAbsent, lockWorkflow, insertWorkflowVersion,
  setWorkflowCurrentVersion, type WorkflowRecord, type WorkflowVersionRecord,
} from './workflows';
export { applyWorkflow, type ApplyWorkflowResult } from './apply-workflow';
export { insertRun, getRun, lockRun, listRuns, markRunRunning, finishRun, type RunRecord, type NewRun, type RunCursor } from './runs';
export {
  insertTaskRuns, listTaskRuns, updateTaskRuns, listDueRetries, nextRetryTime, type TaskRunRecord, type NewTaskRun, type TaskRunChange,
} from './task-runs';
export {
  insertAttempts, getAttempt, listRunAttempts, findTaskAttempt, markAttemptRunning, finishAttempt, listTaskOutputs, listUnfinishedAttempts,
  type AttemptRecord, type NewAttempt, type AttemptEnd,
} from './attempts';
export { insertOutbox, deleteOutbox, claimStaleOutbox, type OutboxMessage, type StoredOutboxMessage } from './outbox';
export {
  insertLogLines, recordLogProgress, readLogLines, getLogStatus, type LogLineRecord, type LogStatus, type LogStreamCode,
} from './logs';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresServer, type StartEmbeddedPostgresOptions } from './embedded-postgres';
