import { InvalidArgumentError } from 'commander';
import { Run, RunState, runStateFromJSON, TaskRun, type TaskRunState } from '@skein/proto';
import { collectPages, type CommandContext } from '../command-context';
import { age, attemptStateName, details, elapsed, json, keyValues, runStateName, table, taskRunStateName, timestamp } from '../format';
import { runNameOf, workflowNameOf } from '../names';

/** Every task run of a run, through all pages. */
export async function fetchTaskRuns(ctx: CommandContext, runName: string): Promise<TaskRun[]> {
  return collectPages(async (pageToken) => {
    const res = await ctx.client().listTaskRuns({ parent: runName, pageSize: 1000, pageToken });
    return { items: res.taskRuns, nextPageToken: res.nextPageToken };
  });
}

/** The task table of `tasks RUN` and `runs get RUN`. */
export function taskTable(taskRuns: readonly TaskRun[], now = new Date()): string {
  return table(['task', 'state', 'attempts', 'exit', 'duration', 'depends on'], taskRuns.map((t) => {
    const last = t.attempts[t.attempts.length - 1];
    return [
      t.task,
      // A scheduled task says what it waits for: `scheduled (pool warehouse)`.
      t.waitingFor ? `${taskRunStateName(t.state as TaskRunState)} (${t.waitingFor})` : taskRunStateName(t.state as TaskRunState),
      String(t.attempts.length),
      last?.exitCode === undefined ? '-' : String(last.exitCode),
      elapsed(t.startTime, t.endTime, now),
      t.dependsOn.length > 0 ? t.dependsOn.join(', ') : '-',
    ];
  }));
}

/** A run as `key: value` lines followed by its tasks, as `runs get` and `trigger --wait` show it. */
export function printRun(ctx: CommandContext, run: Run, taskRuns: readonly TaskRun[]): void {
  ctx.out(details([
    ['Run', run.runId],
    ['Name', run.name],
    ['Workflow', `${run.workflow} (version ${run.workflowVersion})`],
    ['State', runStateName(run.state)],
    ...(run.reason ? [['Reason', run.reason] as const] : []),
    ['Trigger', run.trigger],
    ['Params', keyValues(run.params)],
    ['Logical date', timestamp(run.logicalDate)],
    ['Created', timestamp(run.createTime)],
    ['Started', timestamp(run.startTime)],
    ['Ended', timestamp(run.endTime)],
    ['Duration', elapsed(run.startTime, run.endTime)],
  ]));
  if (taskRuns.length > 0) {
    ctx.out();
    ctx.out(taskTable(taskRuns));
  }
  const failed = taskRuns.flatMap((t) => {
    const last = t.attempts[t.attempts.length - 1];
    return last && last.message && attemptStateName(last.state) !== 'succeeded' ? [`${t.task}: ${last.message}`] : [];
  });
  for (const line of failed) ctx.out(line);
}

/** Filters of `runs list`: `--state`, `--since` and `--until` (create time). */
export interface RunListOptions {
  readonly workflow?: string;
  readonly limit: number;
  readonly state?: RunState;
  readonly since?: Date;
  readonly until?: Date;
}

/** `skein runs list [--workflow W] [--state S] [--since T] [--until T] [--limit N]`: newest first. */
export async function listRunsCommand(ctx: CommandContext, options: RunListOptions): Promise<number> {
  const parent = options.workflow ? workflowNameOf(options.workflow) : 'workflows/-';
  const runs = await collectPages(async (pageToken) => {
    const res = await ctx.client().listRuns({
      parent, pageSize: Math.min(options.limit, 1000), pageToken,
      state: options.state ?? RunState.RUN_STATE_UNSPECIFIED, createTimeAfter: options.since, createTimeBefore: options.until,
    });
    return { items: res.runs, nextPageToken: res.nextPageToken };
  }, options.limit);
  if (ctx.output === 'json') {
    ctx.out(json({ runs: runs.map((r) => Run.toJSON(r)) }));
    return 0;
  }
  if (runs.length === 0) {
    ctx.out(options.workflow ? `no runs of ${options.workflow}` : 'no runs');
    return 0;
  }
  ctx.out(table(['run', 'workflow', 'version', 'state', 'trigger', 'created', 'duration'], runs.map((r) => [
    r.runId, r.workflow, String(r.workflowVersion), runStateName(r.state), r.trigger, age(r.createTime), elapsed(r.startTime, r.endTime),
  ])));
  return 0;
}

/** `skein runs get RUN`. */
export async function getRunCommand(ctx: CommandContext, runArg: string): Promise<number> {
  const name = runNameOf(runArg);
  const res = await ctx.client().getRun({ name });
  if (!res.run) return 1;
  if (ctx.output === 'json') {
    ctx.out(json(Run.toJSON(res.run)));
    return 0;
  }
  printRun(ctx, res.run, await fetchTaskRuns(ctx, res.run.name));
  return 0;
}

/** `skein tasks RUN`: the run's tasks with their states, attempts and durations. */
export async function tasksCommand(ctx: CommandContext, runArg: string): Promise<number> {
  const taskRuns = await fetchTaskRuns(ctx, runNameOf(runArg));
  if (ctx.output === 'json') {
    ctx.out(json({ taskRuns: taskRuns.map((t) => TaskRun.toJSON(t)) }));
    return 0;
  }
  ctx.out(taskTable(taskRuns));
  return 0;
}

/** Commander parser of `--state`: `failed` or `RUN_STATE_FAILED`. */
export function parseRunState(value: string): RunState {
  const upper = value.toUpperCase();
  const state = runStateFromJSON(upper.startsWith('RUN_STATE_') ? upper : `RUN_STATE_${upper}`);
  if (state === RunState.UNRECOGNIZED || state === RunState.RUN_STATE_UNSPECIFIED) {
    throw new InvalidArgumentError('expected one of queued, running, succeeded, failed, cancelled');
  }
  return state;
}

/** True once a run can no longer change. */
export function isTerminalRun(state: RunState): boolean {
  return state === RunState.RUN_STATE_SUCCEEDED || state === RunState.RUN_STATE_FAILED || state === RunState.RUN_STATE_CANCELLED;
}
