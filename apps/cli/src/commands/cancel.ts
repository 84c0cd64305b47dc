import { Run } from '@skein/proto';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { runNameOf } from '../names';
import { fetchTaskRuns, printRun } from './runs';

/**
 * `skein cancel RUN [--reason TEXT]`: stops the run's running attempts (their processes or pods are
 * killed) and marks every task not yet ended CANCELLED. Exit 0 when cancelled; 1 when the run had
 * already ended (it is printed either way).
 */
export async function cancelCommand(ctx: CommandContext, runArg: string, options: { reason?: string }): Promise<number> {
  const res = await ctx.client().cancelRun({ name: runNameOf(runArg), reason: options.reason ?? '' });
  if (!res.run) return 1;
  if (ctx.output === 'json') {
    ctx.out(json(Run.toJSON(res.run)));
  } else {
    if (!res.cancelled) ctx.err(`skein: run ${res.run.runId} had already ended; nothing to cancel`);
    printRun(ctx, res.run, await fetchTaskRuns(ctx, res.run.name));
  }
  return res.cancelled ? 0 : 1;
}
