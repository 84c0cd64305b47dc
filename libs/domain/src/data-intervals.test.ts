import { dueIntervals, intervalsBetween } from './data-intervals';

const at = (iso: string) => new Date(iso);
const iso = (d: { start: Date; end: Date }) => [d.start.toISOString(), d.end.toISOString()];

describe('dueIntervals', () => {
  const every5 = { schedule: '*/5 * * * *', timezone: 'UTC', catchup: true };

  it('returns every interval that is over since the start date, with catch-up', () => {
    const due = dueIntervals({ ...every5, startDate: '2026-01-01T10:00:00Z' }, { origin: at('2025-01-01T00:00:00Z'), now: at('2026-01-01T10:17:30Z') });
    expect(due.map(iso)).toEqual([
      ['2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z'],
      ['2026-01-01T10:05:00.000Z', '2026-01-01T10:10:00.000Z'],
      ['2026-01-01T10:10:00.000Z', '2026-01-01T10:15:00.000Z'],
    ]);
  });

  it('continues after the last scheduled run, and returns nothing until the next interval is over', () => {
    const last = at('2026-01-01T10:10:00Z');
    expect(dueIntervals(every5, { lastLogicalDate: last, origin: last, now: at('2026-01-01T10:19:59Z') })).toEqual([]);
    expect(dueIntervals(every5, { lastLogicalDate: last, origin: last, now: at('2026-01-01T10:20:00Z') }).map(iso))
      .toEqual([['2026-01-01T10:15:00.000Z', '2026-01-01T10:20:00.000Z']]);
  });

  it('never goes before the start date, even after a run with an earlier logical date', () => {
    const last = at('2026-01-01T10:10:00Z');
    expect(dueIntervals({ ...every5, startDate: '2030-01-01T00:00:00Z' }, { lastLogicalDate: last, origin: last, now: at('2026-01-01T11:00:00Z') })).toEqual([]);
    expect(dueIntervals({ ...every5, catchup: false, startDate: '2030-01-01T00:00:00Z' }, { lastLogicalDate: last, origin: last, now: at('2026-01-01T11:00:00Z') })).toEqual([]);
  });

  it('stops at the end date', () => {
    const due = dueIntervals({ ...every5, startDate: '2026-01-01T10:00:00Z', endDate: '2026-01-01T10:10:00Z' }, { origin: at('2026-01-01T00:00:00Z'), now: at('2026-01-01T11:00:00Z') });
    expect(due.map((d) => d.start.toISOString())).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z']);
    expect(dueIntervals({ ...every5, catchup: false, endDate: '2026-01-01T10:10:00Z' }, { origin: at('2026-01-01T10:00:00Z'), now: at('2026-01-01T11:00:00Z') })).toEqual([]);
  });

  it('returns only the latest interval without catch-up', () => {
    const due = dueIntervals({ ...every5, catchup: false, startDate: '2026-01-01T00:00:00Z' }, { origin: at('2026-01-01T00:00:00Z'), now: at('2026-01-01T10:17:30Z') });
    expect(due.map(iso)).toEqual([['2026-01-01T10:10:00.000Z', '2026-01-01T10:15:00.000Z']]);
  });

  it('starts at the first fire time after the origin when the origin is between fire times', () => {
    const due = dueIntervals({ schedule: '@hourly', timezone: 'UTC', catchup: true }, { origin: at('2026-03-01T08:20:00Z'), now: at('2026-03-01T11:00:00Z') });
    expect(due.map(iso)).toEqual([
      ['2026-03-01T09:00:00.000Z', '2026-03-01T10:00:00.000Z'],
      ['2026-03-01T10:00:00.000Z', '2026-03-01T11:00:00.000Z'],
    ]);
  });

  it('follows the time zone across a daylight-saving change', () => {
    // Daily at midnight in Chicago: the interval over the spring-forward night is 23 hours long.
    const due = dueIntervals({ schedule: '0 0 * * *', timezone: 'America/Chicago', catchup: true, startDate: '2026-03-07T06:00:00Z' },
      { origin: at('2026-03-07T06:00:00Z'), now: at('2026-03-09T06:00:00Z') });
    expect(due.map(iso)).toEqual([
      ['2026-03-07T06:00:00.000Z', '2026-03-08T06:00:00.000Z'],
      ['2026-03-08T06:00:00.000Z', '2026-03-09T05:00:00.000Z'],
    ]);
  });

  it('limits a long catch-up to chunks', () => {
    const due = dueIntervals({ ...every5, startDate: '2026-01-01T00:00:00Z' }, { origin: at('2026-01-01T00:00:00Z'), now: at('2026-01-02T00:00:00Z'), limit: 10 });
    expect(due).toHaveLength(10);
  });
});

describe('intervalsBetween', () => {
  const hourly = { schedule: '@hourly', timezone: 'UTC' };
  const now = at('2026-02-01T00:00:00Z');

  it('returns the intervals starting in [from, to), oldest first', () => {
    expect(intervalsBetween(hourly, at('2026-01-01T01:00:00Z'), at('2026-01-01T04:00:00Z'), now, 100).map(iso)).toEqual([
      ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z'],
      ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'],
      ['2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z'],
    ]);
  });

  it('starts at the next fire time when from is between fire times, and stops at intervals not over yet', () => {
    expect(intervalsBetween(hourly, at('2026-01-31T21:30:00Z'), at('2026-02-02T00:00:00Z'), now, 100).map((i) => i.start.toISOString()))
      .toEqual(['2026-01-31T22:00:00.000Z', '2026-01-31T23:00:00.000Z']);
  });

  it('is empty for a range with no interval start, and honours the limit', () => {
    expect(intervalsBetween(hourly, at('2026-01-01T01:10:00Z'), at('2026-01-01T01:50:00Z'), now, 100)).toEqual([]);
    expect(intervalsBetween(hourly, at('2026-01-01T00:00:00Z'), at('2026-01-31T00:00:00Z'), now, 5)).toHaveLength(5);
  });
});
