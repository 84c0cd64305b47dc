import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import {
  getLogStatus, getWorkflow, insertAttempts, insertLogLines, insertRun, insertTaskRuns, readLogLines, recordLogProgress, withTransaction,
  findTaskAttempt, getRun, NotFoundError, writeRunChanges, type AttemptUpdate, type LogStreamCode, type Queryable, type RunChanges, type TaskRunWrite,
} from '@skein/store';
import type { TaskRunState } from '@skein/domain';
import type { LogReader, RunCommands } from './ports';

/**
 * A stand-in for the scheduler and the log-collector in tests of the API and its clients: it writes
 * runs, task runs, attempts and log lines through @skein/store exactly as those services would, so
 * every read the API makes is a real read of real rows. It applies no trigger rules: a test moves
 * tasks along itself (or asks for `autoFinish`).
 */
export interface TestScheduler {
  readonly runs: RunCommands;
  readonly logs: LogReader;
  /** Starts a task's current attempt. */
  startTask(runId: string, task: string): Promise<void>;
  /** Ends a task's current attempt and the task; with `retry`, queues the next attempt instead. */
  finishTask(runId: string, task: string, end: { state: 'succeeded' | 'failed'; exitCode?: number; retry?: boolean }): Promise<void>;
  /** Stores log lines of a task's latest attempt; `final` records the final line count. */
  writeLogs(runId: string, task: string, lines: readonly string[], options?: { stream?: LogStreamCode; final?: boolean }): Promise<void>;
  /** Records a run's terminal state. */
  finishRun(runId: string, state: 'succeeded' | 'failed' | 'cancelled', reason?: string): Promise<void>;
  /** Waits for every `autoFinish` in flight. */
  drain(): Promise<void>;
}

export interface TestSchedulerOptions {
  /**
   * Each new run is driven to this end in the background after createRun returns: every task
   * starts, writes one log line and ends in this state. Unset: runs stay queued.
   */
  readonly autoFinish?: 'succeeded' | 'failed';
}

const NO_UPSTREAM = { total: 0, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 };

function taskRun(task: string, state: TaskRunState, currentAttempt: number, times: { start?: Date; end?: Date } = {}): TaskRunWrite {
  return { task, state, currentAttempt, failedAttempts: 0, retryAt: null, startTime: times.start ?? null, endTime: times.end ?? null, upstream: NO_UPSTREAM };
}

/** One write through the scheduler's own statement, with only the given parts. */
function write(db: Queryable, runId: string, parts: Partial<Omit<RunChanges, 'runId'>>): Promise<number[]> {
  return writeRunChanges(db, {
    runId, attempts: [], newAttempts: [], taskRuns: [], outbox: [],
    run: { unfinishedDelta: 0, failedDelta: 0, cancelledDelta: 0, startedAt: null, end: null },
    ...parts,
  });
}

function attemptUpdate(id: string, fields: Partial<AttemptUpdate>): AttemptUpdate {
  return { id, state: 'running', exitCode: null, reason: '', message: '', outputs: null, executor: 'test-executor', startTime: null, endTime: null, ...fields };
}

function newTestId(): string {
  // Lowercase base32-ish like real run ids; only uniqueness matters here.
  return randomBytes(16).toString('hex').slice(0, 26);
}

export function createTestScheduler(pool: Pool, options: TestSchedulerOptions = {}): TestScheduler {
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];

  async function currentAttempt(runId: string, task: string) {
    const attempt = await findTaskAttempt(pool, runId, task, 0);
    if (!attempt) throw new Error(`task ${task} of run ${runId} has no attempt`);
    return attempt;
  }

  const scheduler: TestScheduler = {
    runs: {
      async createRun(command) {
        const workflow = await getWorkflow(pool, command.workflowId);
        if (!workflow) throw new Error(`workflow ${command.workflowId} not found`);
        const runId = newTestId();
        const now = new Date();
        await withTransaction(pool, async (tx) => {
          await insertRun(tx, {
            id: runId, workflowId: workflow.id, workflowVersion: workflow.currentVersion, state: 'queued', trigger: command.trigger,
            params: command.params, logicalDate: command.logicalDate ?? now, startTime: null, taskCount: workflow.spec.spec.tasks.length,
          });
          const tasks = workflow.spec.spec.tasks;
          await insertTaskRuns(tx, runId, tasks.map((t, position) => ({
            task: t.name, position, state: t.dependsOn.length === 0 ? 'queued' : 'pending', currentAttempt: t.dependsOn.length === 0 ? 1 : 0,
            upstreamTotal: t.dependsOn.length,
          })));
          await insertAttempts(tx, runId, tasks.filter((t) => t.dependsOn.length === 0)
            .map((t) => ({ id: newTestId(), task: t.name, number: 1, queueTime: now })));
        });
        if (options.autoFinish) {
          const end = options.autoFinish;
          const done = (async () => {
            for (const t of workflow.spec.spec.tasks) {
              if (t.dependsOn.length > 0) {
                await write(pool, runId, {
                  newAttempts: [{ id: newTestId(), task: t.name, number: 1, state: 'queued', queueTime: new Date(), reason: '', message: '', endTime: null }],
                  taskRuns: [taskRun(t.name, 'queued', 1)],
                });
              }
              await scheduler.startTask(runId, t.name);
              await scheduler.writeLogs(runId, t.name, [`${t.name} says hello`], { final: true });
              await scheduler.finishTask(runId, t.name, { state: end, exitCode: end === 'succeeded' ? 0 : 1 });
            }
            await scheduler.finishRun(runId, end, end === 'failed' ? 'a task failed' : '');
          })();
          const tracked = done.catch((err: unknown) => { failures.push(err); });
          inFlight.add(tracked);
          void tracked.then(() => inFlight.delete(tracked));
        }
        return { runId };
      },

      async backfill(workflowId, logicalDates, params) {
        const runIds: string[] = [];
        for (const logicalDate of logicalDates) runIds.push((await scheduler.runs.createRun({ workflowId, params, trigger: 'backfill', logicalDate })).runId);
        return { runIds, skipped: [] };
      },

      async retryRun() {
        // The stand-in applies no trigger rules; retries are tested against the real scheduler.
        throw new Error('the test scheduler does not retry runs');
      },

      async cancelRun(runId, reason) {
        const run = await getRun(pool, runId);
        if (!run) throw new NotFoundError('run', runId);
        if (run.state === 'succeeded' || run.state === 'failed' || run.state === 'cancelled') return { cancelled: false };
        await write(pool, runId, { run: { unfinishedDelta: 0, failedDelta: 0, cancelledDelta: 0, startedAt: null, end: { state: 'cancelled', time: new Date(), reason } } });
        return { cancelled: true };
      },
    },

    logs: {
      async readLogs(attemptId, afterSequence, limit) {
        const [lines, status] = await Promise.all([readLogLines(pool, attemptId, afterSequence, limit), getLogStatus(pool, attemptId)]);
        return { lines, complete: status.complete };
      },
    },

    async startTask(runId, task) {
      const attempt = await currentAttempt(runId, task);
      const now = new Date();
      await write(pool, runId, {
        attempts: [attemptUpdate(attempt.id, { state: 'running', startTime: now })],
        taskRuns: [taskRun(task, 'running', attempt.number, { start: now })],
        run: { unfinishedDelta: 0, failedDelta: 0, cancelledDelta: 0, startedAt: now, end: null },
      });
    },

    async finishTask(runId, task, end) {
      const attempt = await currentAttempt(runId, task);
      const now = new Date();
      const ended = attemptUpdate(attempt.id, {
        state: end.state, exitCode: end.exitCode ?? (end.state === 'succeeded' ? 0 : 1), reason: end.state === 'failed' ? 'EXIT_CODE' : '',
        outputs: end.state === 'succeeded' ? { ok: true } : null, endTime: now,
      });
      await write(pool, runId, end.retry
        ? {
          attempts: [ended],
          newAttempts: [{ id: newTestId(), task, number: attempt.number + 1, state: 'queued', queueTime: now, reason: '', message: '', endTime: null }],
          taskRuns: [taskRun(task, 'queued', attempt.number + 1)],
        }
        : { attempts: [ended], taskRuns: [taskRun(task, end.state, attempt.number, { end: now })] });
    },

    async writeLogs(runId, task, lines, writeOptions = {}) {
      const attempt = await currentAttempt(runId, task);
      const { storedCount } = await getLogStatus(pool, attempt.id);
      const now = new Date();
      const records = lines.map((text, i) => ({ sequence: storedCount + i + 1, stream: writeOptions.stream ?? 1, time: now, text }));
      const added = await insertLogLines(pool, attempt.id, records);
      await recordLogProgress(pool, attempt.id, added, writeOptions.final ? storedCount + lines.length : null);
    },

    async finishRun(runId, state, reason = '') {
      await write(pool, runId, { run: { unfinishedDelta: 0, failedDelta: 0, cancelledDelta: 0, startedAt: null, end: { state, time: new Date(), reason } } });
    },

    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      if (failures.length > 0) throw failures[0];
    },
  };
  return scheduler;
}
