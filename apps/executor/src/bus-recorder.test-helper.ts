import { randomUUID } from 'node:crypto';
import { EVENT_BATCH_HEADER, subjects, type Bus, type Headers, type Subscription } from '@skein/bus';
import { LogBatch, TaskDispatch, TaskEvent, TaskEventBatch, type LogLine } from '@skein/proto';

/** A task event as the scheduler would receive it. */
export interface RecordedEvent {
  readonly subject: string;
  readonly headers: Headers;
  readonly event: TaskEvent;
}

/**
 * Stands in for the scheduler and the log-collector in executor tests: consumes the events and logs
 * streams, acks everything, and lets a test wait for what it expects (woken by each message, no
 * polling). The deadline only turns a hang into a readable failure.
 */
export class BusRecorder {
  readonly events: RecordedEvent[] = [];
  /** Messages on the events stream (a batch holds several events). */
  eventMessages = 0;
  readonly batches: LogBatch[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly subscriptions: Subscription[] = [];

  private constructor(private readonly bus: Bus) {}

  static async start(bus: Bus): Promise<BusRecorder> {
    const recorder = new BusRecorder(bus);
    await bus.ensureStreams();
    recorder.subscriptions.push(await bus.consume({ stream: 'events', durable: 'test-scheduler' }, async (message) => {
      recorder.eventMessages += 1;
      const events = message.headers[EVENT_BATCH_HEADER] ? TaskEventBatch.decode(message.data).events : [TaskEvent.decode(message.data)];
      for (const event of events) recorder.events.push({ subject: message.subject, headers: message.headers, event });
      await message.ack();
      recorder.wake();
    }));
    recorder.subscriptions.push(await bus.consume({ stream: 'logs', durable: 'test-log-collector' }, async (message) => {
      recorder.batches.push(LogBatch.decode(message.data));
      await message.ack();
      recorder.wake();
    }));
    return recorder;
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.drain()));
  }

  /** Resolves with `find()`'s first defined value, re-checked on each message recorded. */
  until<T>(find: () => T | undefined, what: string, timeoutMs = 25_000): Promise<T> {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = find();
        if (value === undefined) return;
        this.wakers.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.wakers.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.wakers.add(check);
    });
  }

  /** Wakes waiters whose condition is not about bus messages (e.g. an executor state). */
  wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  eventsOf(attemptId: string): RecordedEvent[] {
    return this.events.filter((e) => e.event.attemptId === attemptId);
  }

  /** The terminal (succeeded / failed) event of an attempt. */
  terminal(attemptId: string): Promise<RecordedEvent> {
    return this.until(
      () => this.events.find((e) => e.event.attemptId === attemptId && (e.event.kind?.$case === 'succeeded' || e.event.kind?.$case === 'failed')),
      `the terminal event of ${attemptId}`,
    );
  }

  batchesOf(attemptId: string): LogBatch[] {
    return this.batches.filter((b) => b.attemptId === attemptId);
  }

  /** Every line of an attempt's log, in order, once the final batch and every line before it arrived. */
  async log(attemptId: string): Promise<LogLine[]> {
    return this.until(() => {
      const batches = this.batchesOf(attemptId);
      const final = batches.find((b) => b.finalCount !== undefined)?.finalCount;
      if (final === undefined) return undefined;
      const lines = batches.flatMap((b) => b.lines).sort((a, b) => a.sequence - b.sequence);
      return lines.length >= final ? lines : undefined;
    }, `the complete log of ${attemptId}`);
  }
}

/** A dispatch with fresh ids; `overrides` set the rest. */
export function makeDispatch(overrides: Partial<TaskDispatch> = {}): TaskDispatch {
  return TaskDispatch.fromPartial({
    attemptId: `att-${randomUUID()}`,
    runId: `run-${randomUUID()}`,
    workflow: 'sports-etl',
    workflowVersion: 1,
    task: 'extract',
    attempt: 1,
    queue: 'default',
    logicalDate: new Date('2026-03-01T00:00:00.000Z'),
    dispatchTime: new Date(),
    ...overrides,
  });
}

/** Publishes a dispatch the way the scheduler's outbox relay does. */
export async function publishDispatch(bus: Bus, dispatch: TaskDispatch): Promise<void> {
  const queue = dispatch.queue || 'default';
  await bus.publish(subjects.dispatch(queue), TaskDispatch.encode(dispatch).finish(), { msgId: dispatch.attemptId });
}
