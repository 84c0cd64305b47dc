/**
 * Cron schedules: validation, and the arithmetic the scheduler needs for cron ticks and catch-up.
 * A schedule is a standard 5-field cron expression (minute hour day-of-month month day-of-week,
 * with cron-parser's `L` and `#` extensions) or a preset, evaluated in an IANA time zone.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { ScheduleError } from './errors';
import { didYouMean } from './suggest';

/** The presets a schedule may use, and the cron expression each stands for. */
export const SCHEDULE_PRESETS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/** The time zone of a schedule that does not name one. */
export const DEFAULT_TIMEZONE = 'UTC';

const FIELD_NAMES = 'minute hour day-of-month month day-of-week';
// Jenkins-style hashed fields ("H") make the fire time depend on a seed: not a schedule a user can read.
const HASHED = /(^|,)H(\(|\/|,|$)/;

/** True for a time zone name the runtime knows (IANA names such as `America/Chicago`, or `UTC`). */
export function isValidTimeZone(timezone: string): boolean {
  if (timezone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The 5-field cron expression for a schedule (a preset expanded), or what is wrong with it. */
function cronOf(schedule: string): { cron: string } | { problem: string } {
  const text = schedule.trim();
  if (text.startsWith('@')) {
    const cron = SCHEDULE_PRESETS[text];
    if (cron !== undefined) return { cron };
    return { problem: `unknown schedule preset ${JSON.stringify(text)}${didYouMean(text, Object.keys(SCHEDULE_PRESETS))}` };
  }
  const fields = text.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) {
    return {
      problem: `a cron schedule has 5 fields (${FIELD_NAMES}), got ${fields.length} in ${JSON.stringify(schedule)}`,
    };
  }
  if (fields.some((f) => HASHED.test(f))) {
    return { problem: `hashed cron fields ("H") are not supported in ${JSON.stringify(schedule)}` };
  }
  return { cron: fields.join(' ') };
}

/**
 * The cron expression of a schedule, positioned at `currentDate`.
 *
 * @throws ScheduleError saying what is wrong with the schedule or time zone.
 */
function compile(schedule: string, timezone: string, currentDate: Date): CronExpression {
  if (!isValidTimeZone(timezone)) throw new ScheduleError(`unknown time zone ${JSON.stringify(timezone)}`);
  const parsed = cronOf(schedule);
  if ('problem' in parsed) throw new ScheduleError(parsed.problem);
  try {
    return CronExpressionParser.parse(parsed.cron, { tz: timezone, currentDate });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // cron-parser rejects a day that no listed month has ("0 0 30 2 *") with this wording.
    if (/day of month/i.test(reason)) {
      throw new ScheduleError(`schedule ${JSON.stringify(schedule)} can never fire: no month it names has that day`, { cause: err });
    }
    throw new ScheduleError(`invalid cron schedule ${JSON.stringify(schedule)}: ${reason}`, { cause: err });
  }
}

/**
 * What is wrong with a schedule, ready for a message, or undefined if it is valid. A schedule that
 * can never fire (`0 0 30 2 *`) is wrong. An invalid time zone is not reported here (the caller
 * reports it on its own field); the schedule is then checked in UTC.
 *
 * @param timezone the schedule's IANA time zone. @default "UTC"
 */
export function scheduleProblem(schedule: string, timezone: string = DEFAULT_TIMEZONE): string | undefined {
  const tz = isValidTimeZone(timezone) ? timezone : DEFAULT_TIMEZONE;
  try {
    compile(schedule, tz, new Date()).next();
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    // next() found no time within cron-parser's search limit.
    return `schedule ${JSON.stringify(schedule)} can never fire`;
  }
}

/**
 * The first time the schedule fires strictly after `after`, or undefined if it never fires again.
 *
 * @throws ScheduleError if the schedule or time zone is invalid.
 */
export function nextScheduleTime(schedule: string, timezone: string, after: Date): Date | undefined {
  const expression = compile(schedule, timezone, after);
  try {
    return expression.next().toDate();
  } catch {
    return undefined;
  }
}

/**
 * The last time the schedule fired at or before `atOrBefore`: what a workflow without catch-up runs
 * when it is (re)enabled. Undefined if it never fired.
 *
 * @throws ScheduleError if the schedule or time zone is invalid.
 */
export function latestScheduleTime(schedule: string, timezone: string, atOrBefore: Date): Date | undefined {
  // cron-parser's prev() is strictly before its current date; step 1 ms past to include an exact hit.
  const expression = compile(schedule, timezone, new Date(atOrBefore.getTime() + 1));
  try {
    return expression.prev().toDate();
  } catch {
    return undefined;
  }
}

/**
 * Every fire time in `(after, until]`, oldest first, at most `limit` of them: the runs catch-up
 * creates, or a backfill over a date range.
 *
 * @param limit the most times to return. @default 1000
 * @throws ScheduleError if the schedule or time zone is invalid.
 */
export function scheduleTimesBetween(schedule: string, timezone: string, after: Date, until: Date, limit = 1000): Date[] {
  const expression = compile(schedule, timezone, after);
  const times: Date[] = [];
  while (times.length < limit) {
    let next: Date;
    try {
      next = expression.next().toDate();
    } catch {
      break;
    }
    if (next.getTime() > until.getTime()) break;
    times.push(next);
  }
  return times;
}
