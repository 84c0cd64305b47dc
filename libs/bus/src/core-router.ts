import type { Logger } from 'pino';
import type { CoreHandler, Headers, Subscription } from './bus';
import { subjectMatches } from './subject-match';

/**
 * In-process core (non-stream) pub/sub with NATS subject matching. Literal subscriptions (the
 * common case: `skein.cancel.<attempt>`) are found by map lookup; only wildcard ones are scanned.
 * Delivery is asynchronous (a microtask) and in publish order per subscription, as with NATS.
 */
export class CoreRouter {
  private readonly literal = new Map<string, Set<CoreSubscription>>();
  private readonly wildcard = new Set<CoreSubscription>();

  constructor(private readonly logger: Logger) {}

  publish(subject: string, data: Uint8Array, headers: Headers): void {
    const exact = this.literal.get(subject);
    if (exact) for (const subscription of exact) subscription.enqueue(subject, data, headers);
    for (const subscription of this.wildcard) {
      if (subjectMatches(subscription.pattern, subject)) subscription.enqueue(subject, data, headers);
    }
  }

  subscribe(pattern: string, handler: CoreHandler): CoreSubscription {
    const subscription = new CoreSubscription(pattern, handler, this.logger, () => this.remove(subscription));
    if (pattern.includes('*') || pattern.includes('>')) {
      this.wildcard.add(subscription);
    } else {
      let set = this.literal.get(pattern);
      if (!set) this.literal.set(pattern, (set = new Set()));
      set.add(subscription);
    }
    return subscription;
  }

  /** Live subscriptions, for close(). */
  all(): CoreSubscription[] {
    return [...this.wildcard, ...[...this.literal.values()].flatMap((set) => [...set])];
  }

  private remove(subscription: CoreSubscription): void {
    this.wildcard.delete(subscription);
    const set = this.literal.get(subscription.pattern);
    if (set?.delete(subscription) && set.size === 0) this.literal.delete(subscription.pattern);
  }
}

/** One in-process core subscription. `drain()` stops new messages and delivers those queued. */
export class CoreSubscription implements Subscription {
  private queued = 0;
  private draining = false;
  private drained: Promise<void> | undefined;
  private onEmpty: (() => void) | undefined;

  constructor(
    readonly pattern: string,
    private readonly handler: CoreHandler,
    private readonly logger: Logger,
    private readonly unregister: () => void,
  ) {}

  enqueue(subject: string, data: Uint8Array, headers: Headers): void {
    if (this.draining) return;
    this.queued++;
    queueMicrotask(() => {
      try {
        this.handler(subject, data, headers);
      } catch (err) {
        this.logger.error({ err, subject }, 'core message handler threw');
      }
      if (--this.queued === 0) this.onEmpty?.();
    });
  }

  drain(): Promise<void> {
    this.drained ??= new Promise<void>((resolve) => {
      this.draining = true;
      this.unregister();
      if (this.queued === 0) resolve();
      else this.onEmpty = resolve;
    });
    return this.drained;
  }
}
