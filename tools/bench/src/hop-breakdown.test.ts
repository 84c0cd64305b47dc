import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HOP_MARKS, type HopMark } from '@skein/telemetry';
import { hopBreakdown, readHopMarks } from './hop-breakdown';

/** Two processes' marks of three hops, each step 0.1 ms × its position, hops 5 ms apart. */
function writeMarks(prefix: string): void {
  const executor: (string | number)[] = [];
  const scheduler: (string | number)[] = [];
  for (let hop = 0; hop < 3; hop++) {
    HOP_MARKS.forEach((mark, i) => {
      (mark.startsWith('executor.') ? executor : scheduler).push(mark, 1_000 + hop * 5 + i * 0.1);
    });
  }
  writeFileSync(`${prefix}.101.json`, JSON.stringify(executor));
  writeFileSync(`${prefix}.202.json`, JSON.stringify(scheduler));
  writeFileSync(path.join(path.dirname(prefix), 'unrelated.json'), '[]');
}

describe('hop breakdown', () => {
  it('merges every process\'s marks and measures each step of a hop', () => {
    const prefix = path.join(mkdtempSync(path.join(tmpdir(), 'hops-')), 'marks');
    writeMarks(prefix);
    const marks = readHopMarks(prefix);
    expect(marks).toHaveLength(3 * HOP_MARKS.length);
    expect(marks.map(([, t]) => t)).toEqual([...marks.map(([, t]) => t)].sort((a, b) => a - b));

    const steps = hopBreakdown(marks);

    expect(steps).toHaveLength(HOP_MARKS.length + 1);
    for (const s of steps.slice(0, HOP_MARKS.length - 1)) expect(s).toMatchObject({ hops: 3, p50Ms: 0.1, meanMs: 0.1 });
    // committed (the last mark, +0.1 ms × its position) → next hop's dispatch received (+5 ms); and the
    // hop, from the end event's publishing.
    const at = (mark: HopMark) => HOP_MARKS.indexOf(mark) * 0.1;
    expect(steps.at(-2)).toMatchObject({ step: 'scheduler.committed → next executor.dispatch-received', hops: 2, p50Ms: Number((5 - at('scheduler.committed')).toFixed(3)) });
    expect(steps.at(-1)).toMatchObject({ hops: 2, p50Ms: Number((5 - at('executor.event-publishing')).toFixed(3)) });
  });

  it('measures a step only in the hops that passed both its marks, at their first occurrence', () => {
    const m = (mark: HopMark, t: number): [HopMark, number] => [mark, t];
    const steps = hopBreakdown([
      m('executor.dispatch-received', 0), m('executor.event-publishing', 1), m('scheduler.event-received', 2),
      m('scheduler.deciding', 3), m('scheduler.deciding', 9), m('scheduler.state-read', 3), m('scheduler.writing', 4), m('scheduler.committed', 6),
      m('executor.dispatch-received', 10), m('executor.event-publishing', 12),
    ]);
    expect(steps.find((s) => s.step === 'scheduler.deciding → scheduler.state-read')).toMatchObject({ hops: 1, p50Ms: 0 });
    expect(steps.find((s) => s.step === 'executor.dispatch-received → executor.event-publishing')).toMatchObject({ hops: 2, p50Ms: 1.5 });
    expect(steps.find((s) => s.step === 'scheduler.writing → scheduler.committed')).toMatchObject({ hops: 1, p50Ms: 2 });
  });

  it('follows a process task through its launch and exit, passing over the scheduler’s marks for its started event', () => {
    const m = (mark: HopMark, t: number): [HopMark, number] => [mark, t];
    const hop = (t: number): [HopMark, number][] => [
      m('executor.dispatch-received', t), m('executor.launching', t + 0.2),
      // The started event is applied while the task runs.
      m('scheduler.event-received', t + 0.6), m('scheduler.deciding', t + 0.7), m('scheduler.writing', t + 0.8), m('scheduler.committed', t + 1.8),
      m('executor.task-exited', t + 3), m('executor.event-publishing', t + 3.1),
      m('scheduler.event-received', t + 3.5), m('scheduler.deciding', t + 3.6), m('scheduler.writing', t + 3.7), m('scheduler.committed', t + 4.7),
    ];
    const steps = hopBreakdown([...hop(0), ...hop(10), ...hop(20)]);
    const p50 = (name: string) => steps.find((s) => s.step === name)?.p50Ms;
    expect(p50('executor.dispatch-received → executor.launching')).toBeCloseTo(0.2);
    expect(p50('executor.launching → executor.task-exited')).toBeCloseTo(2.8);
    expect(p50('executor.event-publishing → scheduler.event-received')).toBeCloseTo(0.4);
    // The end event's write, not the started event's.
    expect(p50('scheduler.writing → scheduler.committed')).toBeCloseTo(1);
    expect(p50('scheduler.committed → next executor.dispatch-received')).toBeCloseTo(5.3);
    // No deciding → state-read here: the step skips the mark no hop passed.
    expect(steps.find((s) => s.step === 'scheduler.deciding → scheduler.writing')).toMatchObject({ hops: 3 });
    expect(steps.find((s) => s.step === 'executor.dispatch-received → executor.event-publishing')).toBeUndefined();
  });
});
