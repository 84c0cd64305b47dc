import { outcomeLine, terminalKind } from './task-events';

const startTime = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(startTime.getTime() + ms);

describe('outcomeLine', () => {
  it('says how the attempt ended, for people', () => {
    expect(outcomeLine({ ok: true, exitCode: 0, startTime, endTime: at(1234) })).toBe('exited with code 0 in 1.2s');
    expect(outcomeLine({ ok: false, reason: 'EXIT_CODE', exitCode: 3, startTime, endTime: at(40) })).toBe('exited with code 3 in 40ms');
    expect(outcomeLine({ ok: false, reason: 'TIMEOUT', message: 'killed: timeout after 30s', startTime, endTime: at(30_010) }))
      .toBe('killed: timeout after 30s');
    expect(outcomeLine({ ok: false, reason: 'CANCELLED', message: 'cancelled (user asked)', startTime, endTime: at(2100) }))
      .toBe('killed: cancelled (user asked) after 2.1s');
    expect(outcomeLine({ ok: false, reason: 'SIGNAL', message: 'killed by signal SIGKILL', startTime, endTime: at(1000) }))
      .toBe('killed by signal SIGKILL after 1s');
    expect(outcomeLine({ ok: false, reason: 'SPAWN_FAILED', message: 'command "mix" not found on PATH', startTime, endTime: startTime }))
      .toBe('failed to start: command "mix" not found on PATH');
  });
});

describe('terminalKind', () => {
  it('carries outputs as JSON text on success', () => {
    const kind = terminalKind({ ok: true, exitCode: 0, outputs: { rows: 3 }, startTime, endTime: at(5) }, (t) => t);
    expect(kind).toEqual({ $case: 'succeeded', succeeded: { startTime, endTime: at(5), exitCode: 0, outputsJson: '{"rows":3}' } });
  });

  it('redacts the failure message', () => {
    const kind = terminalKind({ ok: false, reason: 'OUTPUT_INVALID', message: 'bad: s3cr3t', exitCode: 0, startTime, endTime: at(5) },
      (t) => t.replace('s3cr3t', '***'));
    expect(kind).toEqual({ $case: 'failed', failed: { startTime, endTime: at(5), exitCode: 0, reason: 'OUTPUT_INVALID', message: 'bad: ***' } });
  });
});
