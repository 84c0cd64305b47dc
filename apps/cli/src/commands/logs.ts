import { setTimeout as sleep } from 'node:timers/promises';
import { AttemptState, GetLogsResponse, LogEntry, LogStream, TaskRunState } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { runNameOf } from '../names';
import { fetchTaskRuns } from './runs';

/** How long `logs` keeps re-reading a finished attempt whose last lines are still on their way. */
const SETTLE_TIMEOUT_MS = 5000;
const SETTLE_INTERVAL_MS = 100;

/** How often `--follow` looks for a task's first attempt, and for its end after the log completed. */
const FOLLOW_POLL_MS = 250;
/** How long `--follow` waits for the attempt's end once its log is complete (the event follows the log). */
const FOLLOW_END_TIMEOUT_MS = 30_000;

/** Task states in which no attempt will start any more. */
const TERMINAL_TASK_STATES = new Set([
  TaskRunState.TASK_RUN_STATE_SUCCEEDED, TaskRunState.TASK_RUN_STATE_FAILED, TaskRunState.TASK_RUN_STATE_SKIPPED,
  TaskRunState.TASK_RUN_STATE_UPSTREAM_FAILED, TaskRunState.TASK_RUN_STATE_CANCELLED,
]);

export interface LogsOptions {
  /** 0: the latest attempt. */
  readonly attempt: number;
  /** Print lines as they are stored until the attempt's log is complete. */
  readonly follow?: boolean;
  /** Only lines after this sequence. @default 0 */
  readonly sinceSeq?: number;
}

const TERMINAL_ATTEMPT_STATES = new Set([
  AttemptState.ATTEMPT_STATE_SUCCEEDED, AttemptState.ATTEMPT_STATE_FAILED, AttemptState.ATTEMPT_STATE_LOST, AttemptState.ATTEMPT_STATE_CANCELLED,
]);

interface LogCursor {
  attempt: number;
  afterSequence: number;
  complete: boolean;
}

/**
 * `skein logs RUN TASK [--attempt N]`: every line of the attempt (the latest by default), through all
 * pages. The executor ships lines asynchronously, so right after a task ends its last lines may not
 * be stored yet: for a finished attempt whose log is not complete, it re-reads for up to 5 s.
 */
export async function logsCommand(ctx: CommandContext, runArg: string, task: string, options: LogsOptions): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(task)) throw new CliError(`${JSON.stringify(task)} is not a task name`);
  const runName = runNameOf(runArg);
  const parent = `${runName}/tasks/${task}`;
  if (options.follow) return followLogs(ctx, runName, task, options);
  const entries: LogEntry[] = [];
  const emit = (lines: readonly LogEntry[]) => {
    if (ctx.output === 'json') entries.push(...lines);
    // Lines Skein wrote about the attempt (started, exit code, lost, ...) are marked as Skein's.
    else for (const entry of lines) ctx.out(entry.stream === LogStream.LOG_STREAM_SYSTEM ? `[skein] ${entry.line}` : entry.line);
  };

  /** Reads every page after the cursor; returns the updated cursor. */
  const readAll = async (from: LogCursor): Promise<LogCursor> => {
    let cursor = from;
    let pageToken = '';
    do {
      const res = await ctx.client().getLogs({ parent, attempt: cursor.attempt, afterSequence: cursor.afterSequence, pageSize: 0, pageToken });
      emit(res.entries);
      const last = res.entries[res.entries.length - 1];
      cursor = { attempt: res.attempt, afterSequence: last?.sequence ?? cursor.afterSequence, complete: res.complete };
      pageToken = res.nextPageToken;
    } while (pageToken !== '');
    return cursor;
  };

  let cursor = await readAll({ attempt: options.attempt, afterSequence: options.sinceSeq ?? 0, complete: false });
  if (!cursor.complete && cursor.attempt > 0 && (await attemptFinished(ctx, runName, task, cursor.attempt))) {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (!cursor.complete && Date.now() < deadline) {
      await sleep(SETTLE_INTERVAL_MS);
      cursor = await readAll(cursor);
    }
  }
  if (ctx.output === 'json') {
    ctx.out(json(GetLogsResponse.toJSON({ entries, nextPageToken: '', attempt: cursor.attempt, complete: cursor.complete })));
  }
  return 0;
}

/** A line as `logs` prints it: Skein's own lines (started, exit code, lost, ...) marked `[skein]`. */
function printEntry(ctx: CommandContext, entry: LogEntry): void {
  if (ctx.output === 'json') ctx.out(JSON.stringify(LogEntry.toJSON(entry)));
  else ctx.out(entry.stream === LogStream.LOG_STREAM_SYSTEM ? `[skein] ${entry.line}` : entry.line);
}

/**
 * `skein logs RUN TASK --follow`: waits for the task's first attempt if it has none yet, prints the
 * attempt's lines as they are stored (TailLogs), resuming where it was when the server dropped it as
 * too slow, and returns once the log is complete: 0 when the attempt succeeded, 1 otherwise. With
 * `-o json`, one LogEntry JSON object per line.
 */
async function followLogs(ctx: CommandContext, runName: string, task: string, options: LogsOptions): Promise<number> {
  const parent = `${runName}/tasks/${task}`;
  let attempt = options.attempt;
  if (attempt === 0) {
    for (;;) {
      const taskRun = (await fetchTaskRuns(ctx, runName)).find((t) => t.task === task);
      if (!taskRun) throw new CliError(`run ${runName} has no task ${JSON.stringify(task)}`);
      const latest = taskRun.attempts[taskRun.attempts.length - 1];
      if (latest) {
        attempt = latest.number;
        break;
      }
      // Skipped, or never reached because an upstream failed: there is nothing to follow.
      if (TERMINAL_TASK_STATES.has(taskRun.state)) return taskRun.state === TaskRunState.TASK_RUN_STATE_SUCCEEDED ? 0 : 1;
      await sleep(FOLLOW_POLL_MS);
    }
  }
  let after = options.sinceSeq ?? 0;
  let complete = false;
  while (!complete) {
    try {
      for await (const response of ctx.client().tailLogs({ parent, attempt, afterSequence: after })) {
        for (const entry of response.entries) printEntry(ctx, entry);
        after = response.entries[response.entries.length - 1]?.sequence ?? after;
        if (response.complete) complete = true;
      }
      // A stream that ended without `complete`: the server found lines missing; they will not come.
      if (!complete) break;
    } catch (err) {
      // Dropped for reading too slowly (a slow terminal): pick up after the last line printed.
      if (err instanceof CliError && err.reason === 'LOG_TAIL_TOO_SLOW') continue;
      throw err;
    }
  }
  // The log completes just before the executor reports the attempt's end: wait for the end.
  const deadline = Date.now() + FOLLOW_END_TIMEOUT_MS;
  for (;;) {
    const state = await attemptState(ctx, runName, task, attempt);
    if (state !== undefined && TERMINAL_ATTEMPT_STATES.has(state)) return state === AttemptState.ATTEMPT_STATE_SUCCEEDED ? 0 : 1;
    if (Date.now() > deadline) return 1;
    await sleep(FOLLOW_POLL_MS);
  }
}

async function attemptState(ctx: CommandContext, runName: string, task: string, attempt: number): Promise<AttemptState | undefined> {
  const taskRun = (await fetchTaskRuns(ctx, runName)).find((t) => t.task === task);
  return taskRun?.attempts.find((a) => a.number === attempt)?.state;
}

async function attemptFinished(ctx: CommandContext, runName: string, task: string, attempt: number): Promise<boolean> {
  const taskRun = (await fetchTaskRuns(ctx, runName)).find((t) => t.task === task);
  const state = taskRun?.attempts.find((a) => a.number === attempt)?.state;
  return state !== undefined && TERMINAL_ATTEMPT_STATES.has(state);
}
