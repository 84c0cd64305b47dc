/**
 * Where an executor is in its life. `start()`: idle → starting → running. `stop()`: stopping (takes
 * no more dispatches) → draining (waits for running tasks, then cancels them) → stopped.
 */
export type ExecutorState = 'idle' | 'starting' | 'running' | 'stopping' | 'draining' | 'stopped';
