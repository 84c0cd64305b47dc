import { InvalidArgumentError } from 'commander';
import { Run } from '@skein/proto';
import type { CommandContext } from '../command-context';
import { json, runStateName, table, timestamp } from '../format';
import { workflowNameOf } from '../names';

/** `--from`/`--to`: an RFC 3339 time, or a date (`2026-01-31`, midnight UTC). */
export function parseTime(value: string): Date {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError(`"${value}" is not a time: use RFC 3339 (2026-01-31T06:00:00Z) or a date (2026-01-31)`);
  }
  return time;
}

export interface BackfillOptions {
  readonly from: Date;
  readonly to: Date;
  readonly rerunSucceeded?: boolean;
  readonly param?: Record<string, string>;
  readonly maxActive?: number;
}

/**
 * `skein backfill WORKFLOW --from T1 --to T2 [--rerun-succeeded] [--max-active N] [--param k=v]...`: a run
 * for every data interval of the workflow's schedule starting in [T1, T2), oldest first; they start as the
 * workflow's maxActiveRuns (and `--max-active`, over this backfill's runs) allows. Prints the runs created and the logical dates skipped.
 */
export async function backfillCommand(ctx: CommandContext, workflow: string, options: BackfillOptions): Promise<number> {
  const res = await ctx.client().backfillRuns({
    parent: workflowNameOf(workflow), startTime: options.from, endTime: options.to, rerunSucceeded: options.rerunSucceeded ?? false,
    params: options.param ?? {}, maxActive: options.maxActive ?? 0,
  });
  if (ctx.output === 'json') {
    ctx.out(json({ runs: res.runs.map((r) => Run.toJSON(r)), skipped: res.skipped.map((d) => d.toISOString()) }));
    return 0;
  }
  if (res.runs.length > 0) {
    ctx.out(table(['run', 'logical date', 'state'], res.runs.map((r) => [r.runId, timestamp(r.logicalDate), runStateName(r.state)])));
  }
  ctx.out(`${res.runs.length} run(s) created` + (res.skipped.length > 0 ? `, ${res.skipped.length} interval(s) skipped (a run is queued, running or succeeded: --rerun-succeeded runs succeeded ones again)` : ''));
  return 0;
}
