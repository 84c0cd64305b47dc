import { ScheduleError } from './errors';
import {
  isValidTimeZone,
  latestScheduleTime,
  nextScheduleTime,
  SCHEDULE_PRESETS,
  scheduleProblem,
  scheduleTimesBetween,
} from './schedule';

const at = (iso: string) => new Date(iso);

describe('scheduleProblem', () => {
  it.each(['0 * * * *', '*/5 * * * *', '0 0 1-5 * mon', '30 2 * * 1-5', '0 0 L * *', '0 0 * * 1#2', ' 0  0 * * * ', ...Object.keys(SCHEDULE_PRESETS)])(
    'accepts %j',
    (s) => {
      expect(scheduleProblem(s)).toBeUndefined();
    },
  );

  it.each([
    ['0 0 30 2 *', 'can never fire'],
    ['0 0 31 4 *', 'can never fire'],
    ['0 0 * * 1#6', 'invalid cron schedule'],
    ['61 * * * *', 'invalid cron schedule "61 * * * *": Constraint error, got value 61 expected range 0-59'],
    ['* * *', 'a cron schedule has 5 fields (minute hour day-of-month month day-of-week), got 3'],
    ['0 0 0 * * *', 'got 6'],
    ['', 'got 0'],
    ['@dayly', 'unknown schedule preset "@dayly" (did you mean "@daily"?)'],
    ['@secondly', 'unknown schedule preset'],
    ['H * * * *', 'hashed cron fields'],
    ['every day', 'got 2'],
    ['a b c d e', 'invalid cron schedule'],
  ])('rejects %j', (s, message) => {
    expect(scheduleProblem(s)).toContain(message);
  });
});

describe('isValidTimeZone', () => {
  it.each(['UTC', 'America/Chicago', 'Europe/Paris', 'Etc/GMT+5'])('accepts %s', (tz) => {
    expect(isValidTimeZone(tz)).toBe(true);
  });
  it.each(['Mars/Base', '', 'America/Chicag'])('rejects %j', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
});

describe('nextScheduleTime', () => {
  it('is strictly after the given time', () => {
    expect(nextScheduleTime('0 * * * *', 'UTC', at('2026-01-01T00:00:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
    expect(nextScheduleTime('0 * * * *', 'UTC', at('2026-01-01T00:59:59.999Z'))).toEqual(at('2026-01-01T01:00:00Z'));
  });
  it('expands presets', () => {
    expect(nextScheduleTime('@midnight', 'UTC', at('2026-01-01T12:00:00Z'))).toEqual(at('2026-01-02T00:00:00Z'));
    expect(nextScheduleTime('@yearly', 'UTC', at('2026-03-01T00:00:00Z'))).toEqual(at('2027-01-01T00:00:00Z'));
  });
  it('evaluates in the time zone, across a DST change', () => {
    // America/New_York springs forward on 2026-03-08: 02:30 local is 07:30Z before, 06:30Z after.
    expect(nextScheduleTime('30 2 * * *', 'America/New_York', at('2026-03-07T12:00:00Z'))).toEqual(at('2026-03-08T07:30:00Z'));
    expect(nextScheduleTime('30 2 * * *', 'America/New_York', at('2026-03-09T00:00:00Z'))).toEqual(at('2026-03-09T06:30:00Z'));
    expect(nextScheduleTime('0 0 * * *', 'America/Chicago', at('2026-01-01T12:00:00Z'))).toEqual(at('2026-01-02T06:00:00Z'));
  });
  it('throws ScheduleError for an invalid schedule or zone', () => {
    expect(() => nextScheduleTime('nope', 'UTC', new Date())).toThrow(ScheduleError);
    expect(() => nextScheduleTime('0 * * * *', 'Mars/Base', new Date())).toThrow('unknown time zone "Mars/Base"');
  });
});

describe('latestScheduleTime', () => {
  it('includes an exact hit', () => {
    expect(latestScheduleTime('0 * * * *', 'UTC', at('2026-01-01T01:00:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
  });
  it('is the last fire time before', () => {
    expect(latestScheduleTime('0 * * * *', 'UTC', at('2026-01-01T01:59:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
    expect(latestScheduleTime('@daily', 'UTC', at('2026-01-05T10:00:00Z'))).toEqual(at('2026-01-05T00:00:00Z'));
  });
});

describe('scheduleTimesBetween', () => {
  it('lists (after, until], oldest first', () => {
    expect(scheduleTimesBetween('0 * * * *', 'UTC', at('2026-01-01T00:00:00Z'), at('2026-01-01T03:00:00Z'))).toEqual([
      at('2026-01-01T01:00:00Z'),
      at('2026-01-01T02:00:00Z'),
      at('2026-01-01T03:00:00Z'),
    ]);
  });
  it('stops at the limit', () => {
    expect(scheduleTimesBetween('* * * * *', 'UTC', at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'), 5)).toHaveLength(5);
  });
  it('is empty for an empty range', () => {
    expect(scheduleTimesBetween('@daily', 'UTC', at('2026-01-01T01:00:00Z'), at('2026-01-01T23:00:00Z'))).toEqual([]);
  });
});
