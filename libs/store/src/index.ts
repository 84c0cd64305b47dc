export { createPool, withTransaction, type Queryable, type CreatePoolOptions } from './db';
export { migrate, loadMigrations, type Migration } from './migrate';
export { StoreError, NotFoundError, MigrationError, isNotFound } from './errors';
export { AlreadyExistsError, isAlreadyExists, ConcurrentChangeError, isConcurrentChange } from './errors';
export {
  getWorkflow, listWorkflows, getWorkflowVersion, insertWorkflowIfAbsent, lockWorkflow, insertWorkflowVersion,
  setWorkflowCurrentVersion, listScheduledWorkflows, setWorkflowPaused, type WorkflowRecord, type WorkflowVersionRecord,
} from './workflows';
export { applyWorkflow, type ApplyWorkflowResult } from './apply-workflow';
export type { ApplyWorkflowOptions } from './apply-workflow';
export {
  applyTaskTemplate, deleteTaskTemplate, getTaskTemplate, getTaskTemplates, listTaskTemplates, type ApplyTaskTemplateResult, type TaskTemplateRecord,
} from './task-templates';
export { admitRun, countActiveRuns, countActiveBackfillRuns, hasWaitingBackfillRuns, listWaitingRunSlots, listWaitingRuns, listWorkflowsWithWaitingRuns, lockWorkflowAdmission } from './runs';
export { listOverdueRuns, listRunStatesAtLogicalDates, insertRun, latestScheduledLogicalDate, getRun, lockRun, listRuns, setRunReason, type RunRecord, type NewRun, type RunCursor } from './runs';
export {
  insertTaskRuns, listTaskRuns, readTaskRuns, listTaskNamesInStates, listDueRetries, nextRetryTime, type TaskRunRecord, type NewTaskRun,
  type UpstreamCounts,
} from './task-runs';
export { lockRunReadingTaskRuns, readRunSnapshot, type RunSnapshot } from './lock-run-read-task-runs';
export { insertRunWithChanges, type NewRunWrite } from './create-run';
export { writeRunChanges, writeRunChangesIf, type GuardedWrite, type RunChanges, type AttemptUpdate, type NewAttemptRow, type TaskRunWrite } from './run-changes';
export {
  insertAttempts, getAttempt, listRunAttempts, findTaskAttempt, listTaskOutputs, listUnfinishedAttempts, listUnfinishedRunAttempts, listStaleQueuedAttempts, listRunningAttempts, listOverdueQueuedAttempts, insertQueueDeadlines, pruneQueueDeadlines,
  type AttemptRecord, type NewAttempt,
} from './attempts';
export { insertOutbox, deleteOutbox, claimStaleOutbox, type OutboxMessage, type StoredOutboxMessage } from './outbox';
export { encodeOutboxBatch, decodeOutboxBatch, OutboxBatchError } from './outbox-batch';
export {
  insertLogLines, recordLogProgress, readLogLines, getLogStatus, flagLogGaps, listExpiredLogAttempts, deleteLogLinesBatch, deleteLogAttempt,
  listWorkflowLogRetention, type LogExpiry, type LogLineRecord, type LogStatus, type LogStreamCode,
} from './logs';
export { createPgLogStore, type LogStore, type LogBatchRecord, type LogRetentionResult } from './log-store';
export { createFsLogStore } from './fs-log-store';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresServer, type StartEmbeddedPostgresOptions } from './embedded-postgres';
export { abandonRun } from './abandon-run';
export { listWorkflowVersionsPage, deleteWorkflowAndRuns, lockWorkflowRow } from './workflows';
export { countUnendedRuns, listRunsFiltered, runFingerprints, type RunFilter } from './runs';
export { REQUEST_ID_TTL_HOURS, findRequestRun, lockRequestId, recordRequestRun } from './run-requests';
export { applyPool, deletePool, getPool, listPools, poolSpecOf, type PoolInUse, type PoolRecord } from './pools';
export {
  activeTasksOf, deleteRunSlotWaits, deleteSlotWaits, grantSlots, headsOfQueues, insertSlotWaits, lockRunsOf, lockSlotAdmission, tryLockSlotAdmission,
  poolsWithWaits, reconcileSlots, releaseSlots, workflowsWithWaits, type NewSlotWait, type SlotWait,
} from './slots';
export {
  insertApiToken, insertApiTokenIfAbsent, findActiveApiToken, getApiToken, listApiTokens, revokeApiToken,
  type ApiTokenRecord, type NewApiToken, type TokenRoleName,
} from './api-tokens';
export { insertAuditEvent, listAuditEvents, type AuditEventRecord, type NewAuditEvent } from './audit-events';
