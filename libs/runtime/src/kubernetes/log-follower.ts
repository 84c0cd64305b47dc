import type { Logger } from 'pino';
import { LineSplitter } from '../line-splitter';
import type { LogResumePoint } from '../runtime';
import type { KubeClient, KubeStream } from './kube-client';

/** A line of a container log with the timestamp the runtime stamped on it. */
export interface TimedLine {
  readonly text: string;
  readonly time: Date;
}

/** An RFC 3339 timestamp as a key that sorts in time order: seconds, then nanoseconds padded to 9 digits. */
function timeKey(stamp: string): string | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(stamp);
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}` : undefined;
}

/**
 * Follows one container's log with `timestamps=true`, and after a cut resumes with `sinceTime` at
 * the last line's timestamp. The API compares `sinceTime` at whole seconds, so a resumed stream
 * repeats that second: lines older than the last one seen are dropped, and of the lines carrying
 * exactly the last timestamp, as many as were already emitted are dropped. No duplicates, no gaps.
 */
export class LogFollower {
  private lastKey = '';
  private lastDate: Date | undefined;
  private seenAtLast = 0;
  private skipAtLast = 0;
  private stream: KubeStream | undefined;
  private stopped = false;
  private attempts = 0;
  /** Set while lines already stored (before an adoption) are being skipped. */
  private resume: { afterMs: number; skipAtTime: number; dropping: boolean } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly pod: string,
    private readonly container: string,
    private readonly onLine: (line: TimedLine) => void,
    private readonly logger: Logger,
    resumeAfter?: LogResumePoint,
  ) {
    if (resumeAfter) this.resume = { afterMs: resumeAfter.afterTime.getTime(), skipAtTime: resumeAfter.linesAtTime, dropping: false };
  }

  /**
   * Reads until the log ends cleanly once `ended()` is true (the container has terminated), resuming
   * after every cut. Resolves when the whole log has been read, or after {@link stop}.
   */
  async run(ended: () => boolean, waitForEnd: () => Promise<void>): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const clean = await this.readOnce();
      if (this.stopped) return;
      if (clean && ended()) return;
      if (clean) {
        // A follow ends cleanly when the container ends, usually just before the watch says so: wait
        // for that. If the pod still looks alive after a while, the server closed a long follow:
        // read again from the last line.
        await Promise.race([waitForEnd(), this.delay(2000)]);
        clearTimeout(this.timer);
        if (ended()) return;
      } else {
        this.attempts += 1;
        await this.delay(Math.min(2000, 50 * 2 ** this.attempts));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
    clearTimeout(this.timer);
    this.wake?.();
  }

  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  /** A pause that {@link stop} cuts short, so a stopped follower holds no timer. */
  private delay(ms: number): Promise<void> {
    clearTimeout(this.timer);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** One stream; resolves true when it ended cleanly, false when it was cut or refused. */
  private async readOnce(): Promise<boolean> {
    this.skipAtLast = this.seenAtLast;
    const splitter = new LineSplitter((line) => this.accept(line));
    const stream = this.client.streamPodLog(
      this.namespace, this.pod,
      { container: this.container, follow: true, timestamps: true, ...(this.since() && { sinceTime: this.since() }) },
      (chunk) => splitter.push(chunk),
    );
    this.stream = stream;
    try {
      await stream.done;
      splitter.end();
      this.attempts = 0;
      return true;
    } catch (err) {
      // A partial last line of a cut stream is dropped: the resumed stream repeats it whole.
      this.logger.debug({ err, pod: this.pod }, 'log stream cut; resuming');
      return false;
    }
  }

  /** Where the next stream starts: the last line read, or the last line stored before an adoption. */
  private since(): Date | undefined {
    return this.lastDate ?? (this.resume ? new Date(this.resume.afterMs) : undefined);
  }

  private accept(raw: string): void {
    const space = raw.indexOf(' ');
    const stamp = space === -1 ? raw : raw.slice(0, space);
    const key = timeKey(stamp);
    if (this.resume && this.alreadyStored(key === undefined ? undefined : new Date(stamp).getTime())) return;
    if (key === undefined) {
      // A line without a timestamp (the remainder of an over-long line): keep it with the last time.
      this.onLine({ text: raw, time: this.lastDate ?? new Date() });
      return;
    }
    const text = space === -1 ? '' : raw.slice(space + 1);
    if (key < this.lastKey) return;
    if (key === this.lastKey) {
      if (this.skipAtLast > 0) {
        this.skipAtLast -= 1;
        return;
      }
      this.seenAtLast += 1;
    } else {
      this.lastKey = key;
      this.lastDate = new Date(stamp);
      this.seenAtLast = 1;
      this.skipAtLast = 0;
    }
    this.onLine({ text, time: this.lastDate ?? new Date(stamp) });
  }

  /**
   * While resuming an adopted attempt: whether this line is one the store already holds. Stored lines
   * carry their timestamp to the millisecond, so lines before the last stored instant are skipped,
   * and of those at that instant as many as the store holds; the first line after them ends the
   * skipping. A line without a timestamp (the rest of an over-long line) follows the line before it.
   */
  private alreadyStored(ms: number | undefined): boolean {
    const resume = this.resume!;
    if (ms === undefined) return resume.dropping;
    if (ms < resume.afterMs || (ms === resume.afterMs && resume.skipAtTime > 0)) {
      if (ms === resume.afterMs) resume.skipAtTime -= 1;
      resume.dropping = true;
      return true;
    }
    this.resume = undefined;
    return false;
  }
}
