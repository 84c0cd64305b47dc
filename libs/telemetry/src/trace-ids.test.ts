import { attemptTraceparent, parseTraceparent, runTraceId } from './trace-ids';

describe('trace ids', () => {
  it('gives a run the same trace id every time, whether or not it is still remembered', () => {
    const first = runTraceId('run-0');
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    for (let i = 1; i <= 5000; i++) runTraceId(`run-${i}`); // more runs than are remembered
    expect(runTraceId('run-0')).toBe(first);
    expect(runTraceId('run-1')).not.toBe(first);
  });

  it('builds an attempt traceparent in the run\'s trace', () => {
    const parsed = parseTraceparent(attemptTraceparent('run-7', 'attempt-1'));
    expect(parsed).toEqual({ traceId: runTraceId('run-7'), spanId: expect.stringMatching(/^[0-9a-f]{16}$/), sampled: true });
  });
});
