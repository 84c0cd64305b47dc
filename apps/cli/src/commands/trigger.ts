import { Run, RunState } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { workflowNameOf } from '../names';
import { fetchTaskRuns, printRun } from './runs';
import { followRun } from './watch';

/** Commander collector of repeated `--param k=v`. */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`--param ${JSON.stringify(value)}: expected NAME=VALUE`);
  // Values stay strings: the server converts them to each param's declared type.
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * `skein trigger WORKFLOW [--param k=v]... [--wait]`: prints the new run's id; with --wait, follows
 * the run to its end, prints it, and exits 0 only if it succeeded.
 */
export async function triggerCommand(ctx: CommandContext, workflow: string, options: { param?: Record<string, string>; wait?: boolean; requestId?: string }): Promise<number> {
  const res = await ctx.client().triggerRun({ parent: workflowNameOf(workflow), params: options.param ?? {}, requestId: options.requestId ?? '' });
  const run = res.run;
  if (!run) throw new CliError('the server returned no run');
  if (!options.wait) {
    ctx.out(ctx.output === 'json' ? json(Run.toJSON(run)) : run.runId);
    return 0;
  }
  if (ctx.output === 'table') ctx.out(run.runId);
  // WatchRun tells the moment the run ends, without polling.
  const { run: done } = await followRun(ctx, run.name);
  if (ctx.output === 'json') ctx.out(json(Run.toJSON(done)));
  else {
    ctx.out();
    printRun(ctx, done, await fetchTaskRuns(ctx, done.name));
  }
  return done.state === RunState.RUN_STATE_SUCCEEDED ? 0 : 1;
}
