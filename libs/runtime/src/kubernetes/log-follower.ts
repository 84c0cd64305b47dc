import type { Logger } from 'pino';
import { LineSplitter } from '../line-splitter';
import type { LogResumePoint, OutputFlow } from '../runtime';
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
 * repeats that second: lines older than the last one seen are dropped, and of the pieces carrying
 * exactly the last timestamp, as many as were already read are dropped. A piece is a line, or a
 * part of a line over the splitter's limit (the parts after the first carry no timestamp of their
 * own and belong to the line before): counting pieces rather than lines keeps a cut in the middle of
 * an over-long line exact. No duplicates, no gaps.
 *
 * While the `flow` is not writable the stream is paused: the log waits in the socket and at the API
 * server rather than in this process.
 */
export class LogFollower {
  /** The timestamp key of the newest line read. */
  private lastKey = '';
  private lastDate: Date | undefined;
  /** Pieces read (delivered or known stored) at `lastKey`. */
  private piecesAtLast = 0;
  /** Pieces at `lastKey` the current stream repeats and that are dropped. */
  private skipAtLast = 0;
  /** The current line is older than `lastKey` (a repeat): its untimestamped parts go too. */
  private olderLine = false;
  private stream: KubeStream | undefined;
  private stopped = false;
  private paused = false;
  private attempts = 0;
  /** Set while pieces already stored (before an adoption) are being skipped. */
  private resume: { afterMs: number; skipAtTime: number } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly pod: string,
    private readonly container: string,
    private readonly onLine: (line: TimedLine) => void,
    private readonly logger: Logger,
    resumeAfter?: LogResumePoint,
    private readonly flow?: OutputFlow,
  ) {
    if (resumeAfter) this.resume = { afterMs: resumeAfter.afterTime.getTime(), skipAtTime: resumeAfter.linesAtTime };
  }

  /** True while reading waits for the flow to drain. */
  get waitingForFlow(): boolean {
    return this.paused;
  }

  /** Resolves once reading no longer waits for the flow (at once when it does not). */
  async flowing(): Promise<void> {
    while (this.paused && !this.stopped && this.flow) await this.flow.drained();
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
    this.skipAtLast = this.piecesAtLast;
    this.olderLine = false;
    const splitter = new LineSplitter((line) => this.accept(line));
    const stream = this.client.streamPodLog(
      this.namespace, this.pod,
      { container: this.container, follow: true, timestamps: true, ...(this.since() && { sinceTime: this.since() }) },
      (chunk) => splitter.push(chunk),
    );
    this.stream = stream;
    if (this.paused) stream.pause();
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
    let text = raw;
    if (key === undefined) {
      // An untimestamped piece: the rest of an over-long line, at the time of the line it continues.
      if (this.olderLine) return;
      if (this.lastKey !== '' && this.skipAtLast > 0) {
        this.skipAtLast -= 1;
        return;
      }
    } else {
      text = space === -1 ? '' : raw.slice(space + 1);
      this.olderLine = key < this.lastKey;
      if (this.olderLine) return;
      if (key === this.lastKey) {
        if (this.skipAtLast > 0) {
          this.skipAtLast -= 1;
          return;
        }
      } else {
        this.lastKey = key;
        this.lastDate = new Date(stamp);
        this.piecesAtLast = 0;
        this.skipAtLast = 0;
      }
    }
    if (this.lastKey !== '') this.piecesAtLast += 1;
    const time = this.lastDate ?? new Date();
    if (this.resume && this.alreadyStored(time.getTime())) return;
    this.onLine({ text, time });
    this.throttle();
  }

  /**
   * While resuming an adopted attempt: whether this piece is one the store already holds. Stored
   * pieces carry their timestamp to the millisecond, so pieces before the last stored instant are
   * skipped, and of those at that instant as many as the store holds; the first piece after them
   * ends the skipping.
   */
  private alreadyStored(ms: number): boolean {
    const resume = this.resume!;
    if (ms < resume.afterMs) return true;
    if (ms === resume.afterMs && resume.skipAtTime > 0) {
      resume.skipAtTime -= 1;
      return true;
    }
    this.resume = undefined;
    return false;
  }

  /** Pauses the stream while the flow is not writable; resumes it once it has drained. */
  private throttle(): void {
    const flow = this.flow;
    if (flow === undefined || this.paused || flow.writable) return;
    this.paused = true;
    this.stream?.pause();
    void flow.drained().then(() => {
      this.paused = false;
      if (!this.stopped) this.stream?.resume();
    });
  }
}
