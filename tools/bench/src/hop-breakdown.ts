// Where one hop of a chain goes, from the hop marks the scheduler and the executor record when
// SKEIN_HOP_MARKS is set (`npm run bench -- chain --hop-marks`): every process writes
// `<prefix>.<pid>.json` as it exits; marks of all processes are merged on their wall-clock times.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HOP_MARKS, type HopMark } from '@skein/telemetry';

export interface HopStep {
  readonly step: string;
  readonly hops: number;
  readonly p50Ms: number;
  readonly meanMs: number;
}

/** Every mark written under `prefix` (all processes), ordered by time. */
export function readHopMarks(prefix: string): [HopMark, number][] {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const marks: [HopMark, number][] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${base}.`) && f.endsWith('.json'))) {
    const flat = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as (string | number)[];
    for (let i = 0; i + 1 < flat.length; i += 2) marks.push([flat[i] as HopMark, flat[i + 1] as number]);
  }
  return marks.sort((a, b) => a[1] - b[1]);
}

/**
 * The median and mean of each step of a hop. A hop is the stretch from one `executor.dispatch-received`
 * to the next (a chain has one task in flight at a time); within it each mark counts at its first
 * occurrence, and a step is measured in the hops that passed both of its marks. The last step, the
 * committed dispatch's publish and delivery, ends at the next hop's `executor.dispatch-received`; the
 * total is the hop as the executor sees it, from publishing the end of one task to receiving the next.
 */
export function hopBreakdown(marks: readonly [HopMark, number][]): HopStep[] {
  const cycles: Map<HopMark, number>[] = [];
  for (const [mark, time] of marks) {
    if (mark === 'executor.dispatch-received') cycles.push(new Map());
    const cycle = cycles.at(-1);
    if (cycle !== undefined && !cycle.has(mark)) cycle.set(mark, time);
  }
  const step = (name: string, values: number[]): HopStep => ({
    step: name, hops: values.length, p50Ms: round(median(values)), meanMs: round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
  });
  const steps: HopStep[] = [];
  for (let i = 0; i + 1 < HOP_MARKS.length; i++) {
    const from = HOP_MARKS[i] as HopMark;
    const to = HOP_MARKS[i + 1] as HopMark;
    steps.push(step(`${from} → ${to}`, cycles.flatMap((c) => (c.has(from) && c.has(to) ? [(c.get(to) as number) - (c.get(from) as number)] : []))));
  }
  const across = (from: HopMark) => cycles.slice(0, -1).flatMap((c, i) => {
    const next = cycles[i + 1]?.get('executor.dispatch-received');
    return c.has(from) && next !== undefined ? [next - (c.get(from) as number)] : [];
  });
  steps.push(step('scheduler.committed → next executor.dispatch-received', across('scheduler.committed')));
  steps.push(step('hop: executor.event-publishing → next executor.dispatch-received', across('executor.event-publishing')));
  return steps;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
