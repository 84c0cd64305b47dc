import type { Bus, PublishOptions } from '@skein/bus';
import { isBusClosed, isBusError, isNoStream } from '@skein/bus';

/** How hard the executor tries to get one message into a stream. */
export interface PublishRetryPolicy {
  /** Tries in all, the first included. The NATS bus already rides out outages inside one try. @default 3 */
  readonly attempts: number;
  /** Delay before the second try; doubles after each. @default 100 */
  readonly initialDelayMs: number;
  /** @default 5000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_PUBLISH_RETRY: PublishRetryPolicy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 5000 };

/**
 * Publishes, and on a failure a retry may fix (a publish timeout, a connection that is coming back)
 * tries again with jittered exponential backoff. Safe because every executor publish carries a
 * `msgId`: a retry of a publish that was in fact stored is dropped as a duplicate. A closed bus or a
 * subject with no stream or a publish the stream refused fails at once.
 */
export async function publishWithRetry(
  bus: Bus,
  subject: string,
  data: Uint8Array,
  options: PublishOptions,
  policy: PublishRetryPolicy = DEFAULT_PUBLISH_RETRY,
): Promise<void> {
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await bus.publish(subject, data, options);
      return;
    } catch (err) {
      if (attempt >= policy.attempts || isBusClosed(err) || isNoStream(err) || (isBusError(err) && err.code === 'PUBLISH_REJECTED')) throw err;
    }
    await sleep(delay / 2 + Math.random() * (delay / 2));
    delay = Math.min(delay * 2, policy.maxDelayMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
