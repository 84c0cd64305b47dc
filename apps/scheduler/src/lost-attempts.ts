import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { subjects, type Bus, type Subscription } from '@skein/bus';
import { ExecutorHeartbeat, TaskEvent } from '@skein/proto';
import { listRunningAttempts } from '@skein/store';

export interface LostAttemptOptions {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** A running attempt no executor has named in a heartbeat for this long is LOST. */
  readonly lostAfterMs: number;
  /** @default min(lostAfterMs / 4, 10000) */
  readonly sweepIntervalMs?: number;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

/**
 * A task never stays RUNNING without an owner: executors name their running attempts in heartbeats
 * (core NATS), this keeps the last sighting of each in memory, and an attempt unseen for `lostAfterMs`
 * is reported LOST through the ordinary event path (deduplicated by id), so the retry policy applies.
 * Every scheduler replica listens and sweeps; a replica that just started counts its own start as a
 * sighting, so it never reports an attempt before hearing from the executors for `lostAfterMs`.
 */
export class LostAttemptDetector {
  private readonly lastSeen = new Map<string, number>();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private startedAt = 0;

  constructor(private readonly options: LostAttemptOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  start(): void {
    this.startedAt = this.now();
    this.subscription = this.options.bus.subscribeCore(subjects.allHeartbeats, (_subject, data) => {
      let beat: ExecutorHeartbeat;
      try {
        beat = ExecutorHeartbeat.decode(data);
      } catch {
        return;
      }
      const at = this.now();
      for (const id of beat.attemptIds) this.lastSeen.set(id, at);
    });
    const interval = this.options.sweepIntervalMs ?? Math.min(this.options.lostAfterMs / 4, 10_000);
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => { await this.sweep(); }).catch((err) => this.options.logger.warn({ err }, 'lost-attempt sweep failed'));
    }, interval);
    this.timer.unref();
  }

  /** Reports running attempts unseen for too long; returns how many. */
  async sweep(): Promise<number> {
    const now = this.now();
    const running = await listRunningAttempts(this.options.pool, 10_000);
    const live = new Set(running.map((a) => a.id));
    for (const id of this.lastSeen.keys()) if (!live.has(id)) this.lastSeen.delete(id);
    const lost = running.filter((a) => {
      const seen = Math.max(this.lastSeen.get(a.id) ?? 0, this.startedAt, a.startTime?.getTime() ?? 0);
      return now - seen > this.options.lostAfterMs;
    });
    const seconds = Math.round(this.options.lostAfterMs / 1000);
    const time = new Date(now);
    await Promise.all(lost.map((a) => this.options.bus.publish(subjects.event(a.runId), TaskEvent.encode(TaskEvent.fromPartial({
      attemptId: a.id, runId: a.runId, task: a.task, attempt: a.number, executor: 'scheduler', time,
      kind: { $case: 'failed', failed: { reason: 'LOST', message: `no heartbeat from executor ${a.executor || '(unknown)'} for ${seconds}s: it is gone, and so is the task`, endTime: time } },
    })).finish(), { msgId: `${a.id}:lost` })));
    if (lost.length > 0) this.options.logger.warn({ count: lost.length }, 'attempts reported LOST: their executors stopped sending heartbeats');
    return lost.length;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.drain();
    await this.running;
  }
}
