import { subjects, type Bus } from '@skein/bus';
import { ExecutorHeartbeat } from '@skein/proto';

/** Most attempt ids in one heartbeat message (a busy executor sends several). */
const IDS_PER_MESSAGE = 2000;

/**
 * Tells the schedulers, every `intervalMs`, which attempts run on this executor. Core NATS (at most
 * once): a missed beat is harmless, the schedulers only act after `lostAfter` of silence.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** The attempts the last beat named. */
  private named = new Set<string>();

  constructor(private readonly bus: Bus, private readonly executor: string, private readonly running: () => Iterable<string>,
    private readonly intervalMs: number) {}

  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Publishes now if an attempt runs that the last beat did not name: called every third of the ack
   * wait, so an attempt is named within seconds of its start, before its dispatch could come back to
   * another executor (which takes the attempt for lost only once no heartbeat has named it lately).
   */
  beatIfNew(): void {
    for (const id of this.running()) {
      if (!this.named.has(id)) {
        this.beat();
        return;
      }
    }
  }

  /** Publishes now (also on a timer). */
  beat(): void {
    const ids = [...this.running()];
    this.named = new Set(ids);
    const time = new Date();
    for (let i = 0; i === 0 || i < ids.length; i += IDS_PER_MESSAGE) {
      const message = ExecutorHeartbeat.fromPartial({ executor: this.executor, attemptIds: ids.slice(i, i + IDS_PER_MESSAGE), time });
      this.bus.publishCore(subjects.heartbeat(this.executor), ExecutorHeartbeat.encode(message).finish());
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
