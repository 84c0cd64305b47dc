import { checkDuration, formatDuration, MAX_DURATION_MS, parseDuration } from './durations';
import { DurationError } from './errors';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5s', 1500],
    ['0.5h', 1_800_000],
    ['0s', 0],
    ['30', 30_000],
    [' 10s ', 10_000],
    [90, 90_000],
    [0.25, 250],
    [0, 0],
    ['365d', MAX_DURATION_MS],
  ])('%j → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '-5s', 'abc', '5x', '1h 30m', 's', '1hh', '10 s', '1e3s', '366d', '.5s'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %d', (input) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
  });

  it('explains what is accepted', () => {
    expect(checkDuration('5 minutes')).toEqual({
      ok: false,
      message: 'invalid duration "5 minutes": use a number of seconds or a string such as "500ms", "30s", "5m", "1h30m" or "2d"',
    });
    expect(checkDuration('-1m')).toEqual({ ok: false, message: 'a duration cannot be negative, got "-1m"' });
    expect(checkDuration(true)).toMatchObject({ ok: false });
  });

  it('throws an error with a stable code', () => {
    try {
      parseDuration('nope');
      throw new Error('unreachable');
    } catch (err) {
      expect(err).toBeInstanceOf(DurationError);
      expect((err as DurationError).code).toBe('DURATION_INVALID');
      expect((err as DurationError).name).toBe('DurationError');
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [5_400_000, '1h30m'],
    [172_800_000, '2d'],
    [93_784_005, '1d2h3m4s5ms'],
  ])('%i → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
