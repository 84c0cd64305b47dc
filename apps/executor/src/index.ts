export { Executor, type StopOptions } from './executor';
export type { ExecutorState } from './executor-state';
export { compileExecutorOptions, dispatchDurable, RECOMMENDED_STARTED_GRACE_MS, type CompiledExecutorOptions, type ExecutorOptions } from './executor-options';
export { ExecutorOptionsError, ExecutorStateError } from './errors';
export { AttemptLog, DEFAULT_LOG_BATCH, type AttemptIdentity, type LogBatchOptions } from './attempt-log';
export { DEFAULT_PUBLISH_RETRY, publishWithRetry, type PublishRetryPolicy } from './publish-with-retry';
export { createRedactor, REDACTED, type Redactor, type SecretRedactor } from './redactor';
export { outcomeLine } from './task-events';
export { createLogStoreClient, type LogStoreClient, type LogStoreClientOptions, type StoredLogProgress } from './log-store-client';
