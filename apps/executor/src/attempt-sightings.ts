import type { Bus, Subscription } from '@skein/bus';
import { subjects } from '@skein/bus';
import { ExecutorHeartbeat } from '@skein/proto';
import type { Logger } from 'pino';

/**
 * When each attempt was last named by an executor's heartbeat (every executor's, this one's too):
 * what the Job sweep uses to tell a running Job some executor follows from one nobody does. The
 * schedulers report an attempt LOST once no heartbeat has named it for their lost-after time, so a
 * Job whose attempt no heartbeat has named for longer than that belongs to a terminal attempt.
 */
export class AttemptSightings {
  private readonly lastSeen = new Map<string, number>();
  private subscription: Subscription | undefined;
  private since: number | undefined;

  constructor(private readonly bus: Bus, private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  /** Starts listening to heartbeats. Idempotent. */
  start(): void {
    if (this.subscription) return;
    this.since = this.now();
    this.subscription = this.bus.subscribeCore(subjects.allHeartbeats, (subject, data) => {
      let beat: ExecutorHeartbeat;
      try {
        beat = ExecutorHeartbeat.decode(data);
      } catch (err) {
        this.logger.warn({ err, subject }, 'undecodable heartbeat ignored');
        return;
      }
      const at = this.now();
      for (const id of beat.attemptIds) this.lastSeen.set(id, at);
    });
  }

  /** How long heartbeats have been listened to; 0 before {@link start}. */
  listeningForMs(): number {
    return this.since === undefined ? 0 : this.now() - this.since;
  }

  /** When a heartbeat last named `attemptId` (epoch ms), if one did while listening. */
  lastSeenAt(attemptId: string): number | undefined {
    return this.lastSeen.get(attemptId);
  }

  /** Forgets sightings older than `ageMs`: they no longer make a Job look followed. */
  forgetOlderThan(ageMs: number): void {
    const before = this.now() - ageMs;
    for (const [id, at] of this.lastSeen) if (at < before) this.lastSeen.delete(id);
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    this.since = undefined;
    await subscription?.drain();
  }
}
