import { latestScheduleTime, nextScheduleTime, scheduleTimesBetween } from './schedule';

/**
 * A data interval `[start, end)` between two consecutive fire times of a schedule. Its run is created
 * when the interval is over (at `end`), with logical date `start` — as Airflow users know it.
 */
export interface DataInterval {
  readonly start: Date;
  readonly end: Date;
}

export interface ScheduleSpec {
  readonly schedule: string;
  readonly timezone: string;
  /** Intervals start no earlier than this (RFC 3339). */
  readonly startDate?: string;
  /** No interval starting at or after this (RFC 3339). */
  readonly endDate?: string;
  /** Create a run for every interval missed since the last one (true) or only for the latest (false). */
  readonly catchup: boolean;
}

export interface DueIntervalsInput {
  /** Logical date (interval start) of the workflow's latest scheduled run, if any. */
  readonly lastLogicalDate?: Date;
  /** Where intervals begin when the workflow has neither runs nor a startDate (e.g. when it was created). */
  readonly origin: Date;
  readonly now: Date;
  /** At most this many intervals at once (a long catch-up proceeds over several calls). @default 100 */
  readonly limit?: number;
}

/**
 * The data intervals whose run is due at `now` and not created yet, oldest first. Without catch-up
 * only the latest due interval is returned. Pure: the scheduler makes its runs idempotently on
 * (workflow, logical date), so calling it twice, or on two replicas, is harmless.
 *
 * @throws ScheduleError if the schedule or time zone is invalid.
 */
export function dueIntervals(spec: ScheduleSpec, input: DueIntervalsInput): DataInterval[] {
  const { schedule, timezone } = spec;
  const limit = input.limit ?? 100;
  const firstAtOrAfter = (origin: Date) => (latestScheduleTime(schedule, timezone, origin)?.getTime() === origin.getTime()
    ? origin
    : nextScheduleTime(schedule, timezone, origin));
  // The last run's interval is [last, next(last)); the next interval starts where it ends — but never
  // before the start date (a run made by hand, or before the start date moved, does not pull it back).
  const afterLast = input.lastLogicalDate ? nextScheduleTime(schedule, timezone, input.lastLogicalDate) : undefined;
  const fromStart = spec.startDate ? firstAtOrAfter(new Date(spec.startDate)) : undefined;
  let firstStart: Date | undefined;
  if (input.lastLogicalDate) firstStart = afterLast && fromStart && fromStart > afterLast ? fromStart : afterLast;
  else firstStart = fromStart ?? firstAtOrAfter(input.origin);
  if (!firstStart || firstStart > input.now) return [];
  const endDate = spec.endDate ? new Date(spec.endDate) : undefined;
  const beforeEnd = (interval: DataInterval) => !endDate || interval.start < endDate;
  if (!spec.catchup) {
    // Only the latest interval that is over: its end is the last fire time at or before now.
    const end = latestScheduleTime(schedule, timezone, input.now);
    const start = end && latestScheduleTime(schedule, timezone, new Date(end.getTime() - 1));
    return start && end && start >= firstStart ? [{ start, end }].filter(beforeEnd) : [];
  }
  // Fire times from firstStart on, up to now: consecutive pairs are the intervals that are over.
  const ticks = [firstStart, ...scheduleTimesBetween(schedule, timezone, firstStart, input.now, limit)];
  const intervals: DataInterval[] = [];
  for (let i = 0; i + 1 < ticks.length; i++) intervals.push({ start: ticks[i] as Date, end: ticks[i + 1] as Date });
  return intervals.filter(beforeEnd);
}

/**
 * The data intervals whose start is in `[from, to)` and that are over by `now`, oldest first, at most
 * `limit`: what a backfill over that range runs.
 *
 * @throws ScheduleError if the schedule or time zone is invalid.
 */
export function intervalsBetween(spec: Pick<ScheduleSpec, 'schedule' | 'timezone'>, from: Date, to: Date, now: Date, limit: number): DataInterval[] {
  const { schedule, timezone } = spec;
  const first = latestScheduleTime(schedule, timezone, from)?.getTime() === from.getTime() ? from : nextScheduleTime(schedule, timezone, from);
  if (!first || first >= to) return [];
  const starts = [first, ...scheduleTimesBetween(schedule, timezone, first, new Date(to.getTime() - 1), limit)];
  const intervals: DataInterval[] = [];
  for (const start of starts) {
    if (intervals.length >= limit) break;
    const end = nextScheduleTime(schedule, timezone, start);
    if (!end || end > now) break;
    intervals.push({ start, end });
  }
  return intervals;
}
