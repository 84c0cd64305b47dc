import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '@skein/bus';
import type { Runtime } from '@skein/runtime';
import { DEFAULT_LOG_BATCH, type LogBatchOptions } from './attempt-log';
import { ExecutorOptionsError } from './errors';
import type { ExecutorState } from './executor-state';
import type { LogStoreClient } from './log-store-client';
import { DEFAULT_PUBLISH_RETRY, type PublishRetryPolicy } from './publish-with-retry';

/** Options of an {@link Executor}. */
export interface ExecutorOptions {
  readonly bus: Bus;
  /** The runtimes this executor offers, by the name a dispatch's `runtime` field uses (`local`, `noop`, ...). */
  readonly runtimes: Readonly<Record<string, Runtime>>;
  /** The runtime for a dispatch that names none. @default `local` when offered, else the first of `runtimes` */
  readonly defaultRuntime?: string;
  readonly logger: Logger;
  /** Who this executor is, in events and logs. @default `executor-<4 hex digits>@<hostname>` */
  readonly identity?: string;
  /** The queues to take dispatches from (`skein.dispatch.<queue>`). @default ['default'] */
  readonly queues?: readonly string[];
  /** Tasks run at once, over all queues. @default 16 */
  readonly capacity?: number;
  /**
   * A dispatch not acked (or kept in progress) for this long is redelivered; a running task's is
   * kept in progress every `ackWaitMs / 3`. What a dead executor held comes back after this long.
   * @default 10000
   */
  readonly ackWaitMs?: number;
  /** When log lines are sent. @default { maxLines: 500, maxBytes: 262144, maxDelayMs: 20 } */
  readonly logBatch?: Partial<LogBatchOptions>;
  /** Retries of a publish that failed. @default { attempts: 3, initialDelayMs: 100, maxDelayMs: 5000 } */
  readonly publishRetry?: Partial<PublishRetryPolicy>;
  /** How many recently cancelled attempt ids are remembered, to cancel a dispatch that arrives after its cancel. @default 1024 */
  readonly rememberCancels?: number;
  /**
   * How often the executor tells the schedulers which attempts it runs; keep it well under the
   * schedulers' lost-after time. @default 10000
   */
  readonly heartbeatMs?: number;
  /**
   * A redelivered dispatch whose attempt no executor's heartbeat has named for this long (nor since
   * this executor began listening) is reported LOST; one named more recently may still run on a live
   * executor, cut off for a while, and is handed back until then. At least `heartbeatMs`.
   * @default 3 × heartbeatMs
   */
  readonly lostAfterMs?: number;
  /** Called on every lifecycle transition (for health checks and tests). */
  readonly onStateChange?: (state: ExecutorState) => void;
  /**
   * The log store (the log collector's internal gRPC). With it, an adopted attempt's log goes on
   * from the last stored line, and a runtime's `release` (the kubernetes Job's deletion) waits until
   * the store holds the attempt's whole log. Without it, `release` follows the final batch's publish.
   */
  readonly logStore?: LogStoreClient;
  /** How long `release` waits for the store to hold an attempt's whole log; then the Job is left to the sweep. @default 30000 */
  readonly logStoredWaitMs?: number;
  /**
   * A task that ends within this time of its start is reported by its end event alone (which carries
   * its start time), not by a `started` event and then an end event: for short tasks that is one
   * scheduler transaction instead of two. The executor service uses
   * {@link RECOMMENDED_STARTED_GRACE_MS}. @default 0 (every task's start is reported as it happens)
   */
  readonly startedGraceMs?: number;
}

/** The `started` grace of the executor service (`EXECUTOR_STARTED_GRACE_MS`). */
export const RECOMMENDED_STARTED_GRACE_MS = 20;

/** {@link ExecutorOptions} with every default applied and checked. */
export interface CompiledExecutorOptions {
  readonly bus: Bus;
  readonly runtimes: ReadonlyMap<string, Runtime>;
  readonly defaultRuntime: Runtime;
  readonly logger: Logger;
  readonly identity: string;
  readonly queues: readonly string[];
  readonly capacity: number;
  readonly ackWaitMs: number;
  readonly logBatch: LogBatchOptions;
  readonly publishRetry: PublishRetryPolicy;
  readonly rememberCancels: number;
  readonly heartbeatMs: number;
  readonly lostAfterMs: number;
  readonly onStateChange: ((state: ExecutorState) => void) | undefined;
  readonly logStore: LogStoreClient | undefined;
  readonly logStoredWaitMs: number;
  readonly startedGraceMs: number;
}

/** The JetStream durable consumer for a queue, shared by every executor that serves it. */
export function dispatchDurable(queue: string): string {
  // A durable consumer has one filter, and a work-queue stream refuses overlapping filters, so each
  // queue has its own durable. Queue names are checked to be valid durable-name characters.
  return `executors-${queue}`;
}

export function compileExecutorOptions(options: ExecutorOptions): CompiledExecutorOptions {
  const runtimes = new Map(Object.entries(options.runtimes));
  if (runtimes.size === 0) throw new ExecutorOptionsError('an executor needs at least one runtime (e.g. { local: createLocalRuntime() })');
  const defaultName = options.defaultRuntime ?? (runtimes.has('local') ? 'local' : [...runtimes.keys()][0] ?? '');
  const defaultRuntime = runtimes.get(defaultName);
  if (!defaultRuntime) {
    throw new ExecutorOptionsError(`defaultRuntime "${defaultName}" is not one of the executor's runtimes (${[...runtimes.keys()].join(', ')})`);
  }
  const queues = options.queues ?? ['default'];
  if (queues.length === 0) throw new ExecutorOptionsError('an executor needs at least one queue');
  for (const queue of queues) {
    if (!/^[A-Za-z0-9_-]+$/.test(queue)) {
      throw new ExecutorOptionsError(`queue "${queue}" is not a valid queue name: use letters, digits, "_" and "-"`);
    }
  }
  const capacity = options.capacity ?? 16;
  if (!Number.isInteger(capacity) || capacity < 1) throw new ExecutorOptionsError(`capacity must be a positive integer, got ${capacity}`);
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  if (!(ackWaitMs >= 30)) throw new ExecutorOptionsError(`ackWaitMs must be at least 30, got ${ackWaitMs}`);
  const startedGraceMs = options.startedGraceMs ?? 0;
  if (!(startedGraceMs >= 0 && startedGraceMs <= 10_000)) {
    throw new ExecutorOptionsError(`startedGraceMs must be between 0 and 10000, got ${startedGraceMs}`);
  }
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const lostAfterMs = options.lostAfterMs ?? 3 * heartbeatMs;
  if (!(lostAfterMs >= heartbeatMs)) {
    throw new ExecutorOptionsError(`lostAfterMs must be at least heartbeatMs (${heartbeatMs}), got ${lostAfterMs}: an attempt would be taken for lost between two heartbeats`);
  }
  return {
    bus: options.bus,
    runtimes,
    defaultRuntime,
    logger: options.logger,
    identity: options.identity ?? `executor-${randomBytes(2).toString('hex')}@${os.hostname()}`,
    queues: [...new Set(queues)],
    capacity,
    ackWaitMs,
    logBatch: { ...DEFAULT_LOG_BATCH, ...options.logBatch },
    publishRetry: { ...DEFAULT_PUBLISH_RETRY, ...options.publishRetry },
    rememberCancels: options.rememberCancels ?? 1024,
    heartbeatMs,
    lostAfterMs,
    onStateChange: options.onStateChange,
    logStore: options.logStore,
    logStoredWaitMs: options.logStoredWaitMs ?? 30_000,
    startedGraceMs,
  };
}
