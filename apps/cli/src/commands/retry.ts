import { Run } from '@skein/proto';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { runNameOf } from '../names';
import { fetchTaskRuns, printRun } from './runs';

/**
 * `skein runs retry RUN [--task T]`: runs tasks of an ended run again, in the same run — `T` and everything
 * downstream of it, or every failed, upstream-failed and cancelled task and everything downstream of them.
 */
export async function retryCommand(ctx: CommandContext, runArg: string, options: { task?: string }): Promise<number> {
  const res = await ctx.client().retryRun({ name: runNameOf(runArg), task: options.task ?? '' });
  if (!res.run) return 1;
  if (ctx.output === 'json') {
    ctx.out(json(Run.toJSON(res.run)));
    return 0;
  }
  if (res.tasks.length === 0) ctx.err(`skein: run ${res.run.runId} has no failed, upstream-failed or cancelled task to retry`);
  else ctx.out(`retrying ${res.tasks.join(', ')}`);
  printRun(ctx, res.run, await fetchTaskRuns(ctx, res.run.name));
  return res.tasks.length === 0 ? 1 : 0;
}
