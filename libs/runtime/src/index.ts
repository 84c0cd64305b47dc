export type {
  FailureReason,
  RunningTask,
  Runtime,
  TaskEnvVar,
  TaskLaunch,
  TaskOutput,
  TaskOutputStream,
  TaskResult,
} from './runtime';
export { createLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from './local-runtime';
export { createNoopRuntime, NOOP_RUNTIME_NAME } from './noop-runtime';
export { TaskNotStartedError, TaskOutputInvalidError, isTaskNotStarted } from './errors';
export { LineSplitter, MAX_LINE_BYTES } from './line-splitter';
export { readOutputs, MAX_OUTPUTS_BYTES } from './read-outputs';
export { buildTaskEnv, pickInheritedEnv, INHERITED_ENV_NAMES } from './task-env';
export { formatDuration } from './format-duration';
