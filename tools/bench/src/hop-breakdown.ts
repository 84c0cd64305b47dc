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
 * to the next (a chain has one task in flight at a time). Within it the marks are followed in their
 * order (`HOP_MARKS`), each at its first occurrence after the mark before it — so the scheduler's marks
 * for a task's `started` event, which come while the task runs, are passed over for those of its end —
 * and a mark the hop did not pass (an inline runtime launches nothing) is left out: a step joins two
 * marks that follow each other in a hop. The last step, the committed dispatch's publish and delivery,
 * ends at the next hop's `executor.dispatch-received`; the total is the hop as the executor sees it,
 * from publishing the end of one task to receiving the next.
 */
export function hopBreakdown(marks: readonly [HopMark, number][]): HopStep[] {
  const cycles: [HopMark, number][][] = [];
  for (const mark of marks) {
    if (mark[0] === 'executor.dispatch-received') cycles.push([]);
    cycles.at(-1)?.push(mark);
  }
  const paths = cycles.map((cycle) => {
    const passed = new Map<HopMark, number>();
    let after = Number.NEGATIVE_INFINITY;
    for (const mark of HOP_MARKS) {
      const hit = cycle.find(([m, t]) => m === mark && t >= after);
      if (hit === undefined) continue;
      passed.set(mark, hit[1]);
      after = hit[1];
    }
    return passed;
  });
  const durations = new Map<string, number[]>();
  for (const passed of paths) {
    const inOrder = [...passed];
    for (let i = 0; i + 1 < inOrder.length; i++) {
      const [from, t0] = inOrder[i] as [HopMark, number];
      const [to, t1] = inOrder[i + 1] as [HopMark, number];
      const name = `${from} → ${to}`;
      durations.set(name, [...(durations.get(name) ?? []), t1 - t0]);
    }
  }
  const step = (name: string, values: number[]): HopStep => ({
    step: name, hops: values.length, p50Ms: round(median(values)), meanMs: round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
  });
  // Steps in the order of the marks; a step between consecutive marks is listed even if no hop passed it.
  const steps: HopStep[] = [];
  HOP_MARKS.forEach((from, i) => HOP_MARKS.forEach((to, j) => {
    const name = `${from} → ${to}`;
    if (j === i + 1 || (j > i + 1 && durations.has(name))) steps.push(step(name, durations.get(name) ?? []));
  }));
  const across = (from: HopMark) => paths.slice(0, -1).flatMap((passed, i) => {
    const next = paths[i + 1]?.get('executor.dispatch-received');
    const start = passed.get(from);
    return start !== undefined && next !== undefined ? [next - start] : [];
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
