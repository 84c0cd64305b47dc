import { createHash } from 'node:crypto';
import { EVENT_BATCH_HEADER, type Bus, type Headers } from '@skein/bus';
import { TaskEvent, TaskEventBatch } from '@skein/proto';
import { publishWithRetry, type PublishRetryPolicy } from './publish-with-retry';

/** Events in one batch message at most. */
const MAX_BATCH_EVENTS = 256;
/** Estimated bytes of one batch at most (outputs make events large; NATS takes 1 MiB by default). */
const MAX_BATCH_BYTES = 512 * 1024;
/** What an event costs beyond its outputs and message text, for the size estimate. */
const EVENT_OVERHEAD_BYTES = 256;

interface QueuedEvent {
  readonly event: TaskEvent;
  readonly msgId: string;
  readonly headers: Headers | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Publishes task events per subject (one subject per run), in order, group-commit style: an event for
 * a subject with no publish in flight goes out at the end of the event loop's turn, with the run's
 * other events of that turn, so a lone event (a chain's hop) waits for nothing; events that come while
 * one is in flight are gathered and sent as one
 * {@link TaskEventBatch} (header `Skein-Event-Batch: 1`) when it is acknowledged. Under load — many
 * tasks of a run ending together, as in a fan-out or a wide run — that is one JetStream publish, one
 * delivery and one scheduler ack for many events instead of one each.
 *
 * Each returned promise settles when the message holding its event is stored (or has failed after
 * the retry policy), so the caller acks its dispatch only then, as before.
 */
export class EventBatcher {
  /** Subjects with a publish in flight, and the events waiting behind it. */
  private readonly lanes = new Map<string, QueuedEvent[]>();

  constructor(private readonly bus: Bus, private readonly retry: PublishRetryPolicy) {}

  publish(subject: string, event: TaskEvent, msgId: string, headers: Headers | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const item: QueuedEvent = { event, msgId, headers, resolve, reject };
      const waiting = this.lanes.get(subject);
      if (waiting !== undefined) {
        waiting.push(item);
        return;
      }
      this.lanes.set(subject, [item]);
      // Sent once this turn of the event loop is over: the events of tasks that ended in it together
      // (a layer of noop tasks whose dispatches came in one read) go as one message, not one alone
      // and the rest behind it; a lone event waits for nothing else.
      setImmediate(() => void this.drain(subject));
    });
  }

  private async drain(subject: string): Promise<void> {
    let items: QueuedEvent[] = [];
    for (;;) {
      const waiting = this.lanes.get(subject) as QueuedEvent[];
      if (waiting.length > 0) items = items.concat(waiting.splice(0, waiting.length));
      if (items.length === 0) {
        this.lanes.delete(subject);
        return;
      }
      const count = batchLength(items);
      const batch = items.slice(0, count);
      items = items.slice(count);
      try {
        await this.send(subject, batch);
        for (const item of batch) item.resolve();
      } catch (err) {
        for (const item of batch) item.reject(err);
      }
    }
  }

  private send(subject: string, batch: readonly QueuedEvent[]): Promise<void> {
    const only = batch[0] as QueuedEvent;
    if (batch.length === 1) {
      const options = only.headers ? { msgId: only.msgId, headers: only.headers } : { msgId: only.msgId };
      return publishWithRetry(this.bus, subject, TaskEvent.encode(only.event).finish(), options, this.retry);
    }
    // A retried publish carries the same batch and id, so the stream drops a copy it already stored.
    const msgId = `batch:${createHash('sha1').update(batch.map((i) => i.msgId).join(',')).digest('base64url')}`;
    const data = TaskEventBatch.encode({ events: batch.map((i) => i.event) }).finish();
    return publishWithRetry(this.bus, subject, data, { msgId, headers: { [EVENT_BATCH_HEADER]: '1' } }, this.retry);
  }
}

/** How many of the first events go in the next message: at least one, within both caps. */
function batchLength(items: readonly QueuedEvent[]): number {
  let bytes = 0;
  let count = 0;
  for (const item of items) {
    if (count >= MAX_BATCH_EVENTS) break;
    bytes += estimatedBytes(item.event);
    if (count > 0 && bytes > MAX_BATCH_BYTES) break;
    count += 1;
  }
  return count;
}

function estimatedBytes(event: TaskEvent): number {
  const kind = event.kind;
  if (kind?.$case === 'succeeded') return EVENT_OVERHEAD_BYTES + kind.succeeded.outputsJson.length * 3;
  if (kind?.$case === 'failed') return EVENT_OVERHEAD_BYTES + kind.failed.message.length * 3;
  return EVENT_OVERHEAD_BYTES;
}
