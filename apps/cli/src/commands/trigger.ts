import { setTimeout as sleep } from 'node:timers/promises';
import { Run, RunState } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { workflowNameOf } from '../names';
import { fetchTaskRuns, isTerminalRun, printRun } from './runs';

/** Polling intervals of `--wait`: quick at first, since short runs are common, then every 200 ms. */
const WAIT_INTERVALS_MS = [25, 50, 100, 200];

/** Commander collector of repeated `--param k=v`. */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`--param ${JSON.stringify(value)}: expected NAME=VALUE`);
  // Values stay strings: the server converts them to each param's declared type.
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Polls GetRun until the run is terminal. */
async function waitForRun(ctx: CommandContext, run: Run): Promise<Run> {
  let current = run;
  for (let i = 0; !isTerminalRun(current.state); i++) {
    await sleep(WAIT_INTERVALS_MS[Math.min(i, WAIT_INTERVALS_MS.length - 1)]);
    const res = await ctx.client().getRun({ name: run.name });
    if (!res.run) throw new CliError(`run ${run.runId} disappeared`);
    current = res.run;
  }
  return current;
}

/**
 * `skein trigger WORKFLOW [--param k=v]... [--wait]`: prints the new run's id; with --wait, follows
 * the run to its end, prints it, and exits 0 only if it succeeded.
 */
export async function triggerCommand(ctx: CommandContext, workflow: string, options: { param?: Record<string, string>; wait?: boolean }): Promise<number> {
  const res = await ctx.client().triggerRun({ parent: workflowNameOf(workflow), params: options.param ?? {} });
  const run = res.run;
  if (!run) throw new CliError('the server returned no run');
  if (!options.wait) {
    ctx.out(ctx.output === 'json' ? json(Run.toJSON(run)) : run.runId);
    return 0;
  }
  if (ctx.output === 'table') ctx.out(run.runId);
  const done = await waitForRun(ctx, run);
  if (ctx.output === 'json') ctx.out(json(Run.toJSON(done)));
  else {
    ctx.out();
    printRun(ctx, done, await fetchTaskRuns(ctx, done.name));
  }
  return done.state === RunState.RUN_STATE_SUCCEEDED ? 0 : 1;
}
