import { setTimeout as sleep } from 'node:timers/promises';
import { AttemptState, GetLogsResponse, LogStream, type LogEntry } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { runNameOf } from '../names';
import { fetchTaskRuns } from './runs';

/** How long `logs` keeps re-reading a finished attempt whose last lines are still on their way. */
const SETTLE_TIMEOUT_MS = 5000;
const SETTLE_INTERVAL_MS = 100;

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
export async function logsCommand(ctx: CommandContext, runArg: string, task: string, options: { attempt: number }): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(task)) throw new CliError(`${JSON.stringify(task)} is not a task name`);
  const runName = runNameOf(runArg);
  const parent = `${runName}/tasks/${task}`;
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

  let cursor = await readAll({ attempt: options.attempt, afterSequence: 0, complete: false });
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

async function attemptFinished(ctx: CommandContext, runName: string, task: string, attempt: number): Promise<boolean> {
  const taskRun = (await fetchTaskRuns(ctx, runName)).find((t) => t.task === task);
  const state = taskRun?.attempts.find((a) => a.number === attempt)?.state;
  return state !== undefined && TERMINAL_ATTEMPT_STATES.has(state);
}
