import { Run, RunState, TaskRun, WatchRunResponse, type TaskRunState } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { attemptStateName, runStateName, taskRunStateName, timestamp } from '../format';
import { runNameOf } from '../names';
import { isTerminalRun } from './runs';

/** The run as it ended and its task runs as last seen. */
export interface FollowedRun {
  readonly run: Run;
  readonly taskRuns: TaskRun[];
}

/**
 * Follows a run with WatchRun until it ends, calling `onMessage` for each message; returns the run
 * and every task run in their final state. A stream cut by the server (the api restarting, a slow
 * reader) is resumed with a new WatchRun, whose snapshot repeats what changed meanwhile.
 */
export async function followRun(ctx: CommandContext, name: string, onMessage: (message: WatchRunResponse) => void = () => undefined): Promise<FollowedRun> {
  const tasks = new Map<string, TaskRun>();
  let run: Run | undefined;
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const message of ctx.client().watchRun({ name })) {
        run = message.run ?? run;
        for (const t of message.taskRuns) tasks.set(t.task, t);
        onMessage(message);
      }
    } catch (err) {
      const reason = err instanceof CliError ? err.reason : undefined;
      if ((reason === 'API_STOPPING' || reason === 'WATCH_TOO_SLOW') && resumes < 5) continue;
      throw err;
    }
    if (run && isTerminalRun(run.state)) return { run, taskRuns: [...tasks.values()] };
    if (resumes >= 5) throw new CliError(`the watch of ${name} ended before the run did`);
  }
}

/** One line per change: `time  run|task  STATE  details`. */
function changeLines(message: WatchRunResponse, previousRun: RunState | undefined): string[] {
  const lines: string[] = [];
  const run = message.run;
  const now = timestamp(new Date());
  if (run && run.state !== previousRun) lines.push(`${now}  run ${run.runId}  ${runStateName(run.state)}${run.reason ? `  ${run.reason}` : ''}`);
  for (const t of message.taskRuns) {
    const last = t.attempts[t.attempts.length - 1];
    const attempt = last ? `  attempt ${last.number} ${attemptStateName(last.state)}${last.exitCode === undefined ? '' : ` exit ${last.exitCode}`}` : '';
    lines.push(`${now}  task ${t.task}  ${taskRunStateName(t.state as TaskRunState)}${attempt}`);
  }
  return lines;
}

/**
 * `skein runs watch RUN`: prints the run's state changes as they happen (with `-o json`, one
 * WatchRunResponse per line) until the run ends; exits 0 only if it succeeded.
 */
export async function watchRunCommand(ctx: CommandContext, runArg: string): Promise<number> {
  let previous: RunState | undefined;
  const { run } = await followRun(ctx, runNameOf(runArg), (message) => {
    if (ctx.output === 'json') ctx.out(JSON.stringify(WatchRunResponse.toJSON(message)));
    else for (const line of changeLines(message, previous)) ctx.out(line);
    previous = message.run?.state ?? previous;
  });
  if (ctx.output === 'table' && run.state !== RunState.RUN_STATE_SUCCEEDED) ctx.err(`run ${run.runId} ${runStateName(run.state)}`);
  return run.state === RunState.RUN_STATE_SUCCEEDED ? 0 : 1;
}
