import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { createApiService } from '@skein/api';
import type { Bus } from '@skein/bus';
import { Executor, RECOMMENDED_STARTED_GRACE_MS } from '@skein/executor';
import { LogCollector } from '@skein/log-collector';
import { createLocalRuntime, createNoopRuntime } from '@skein/runtime';
import { Scheduler } from '@skein/scheduler';
import { createPool, migrate } from '@skein/store';
import { recoverLostAttempts } from './recover-lost-attempts';

export interface StartSkeinOptions {
  readonly databaseUrl: string;
  readonly bus: Bus;
  readonly logger: Logger;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The executor's default runtime. @default 'local' */
  readonly runtime?: 'local' | 'noop';
  /** Tasks run at once. @default 16 */
  readonly capacity?: number;
  /**
   * Report attempts left queued or running by a previous process as LOST (for the in-process bus,
   * whose messages and child processes do not survive a restart). @default false
   */
  readonly recoverLostAttempts?: boolean;
}

export interface RunningSkein {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly pool: Pool;
  readonly scheduler: Scheduler;
  /** Stops the services in order: api, executor (drains tasks), scheduler, log-collector, pool. */
  stop(): Promise<void>;
}

/** All four services in one process, sharing one bus and one database: `skein standalone` and tests. */
export async function startSkein(options: StartSkeinOptions): Promise<RunningSkein> {
  const { bus, logger } = options;
  const pool = createPool(options.databaseUrl, { max: 20, applicationName: 'skein-standalone', onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  // What has started, stopped in reverse if a later step fails (a port in use): nothing is left running.
  const hotPathPool = createPool(options.databaseUrl, { max: 16, applicationName: 'skein-standalone-hot-path', plannedOnce: true, onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  const started: (() => Promise<void>)[] = [() => pool.end(), () => hotPathPool.end()];
  const unwind = async () => {
    for (const stop of started.reverse()) await stop().catch((err: unknown) => logger.warn({ err }, 'stopping after a failed start'));
  };
  try {
    await migrate(pool);
    await bus.ensureStreams();
    const scheduler = new Scheduler({ pool, hotPathPool, bus, logger: logger.child({ service: 'scheduler' }) });
    await scheduler.start();
    started.push(() => scheduler.stop());
    const collector = new LogCollector({ pool, bus, logger: logger.child({ service: 'log-collector' }) });
    await collector.start();
    started.push(() => collector.stop());
    if (options.recoverLostAttempts) {
      const lost = await recoverLostAttempts(pool, bus, 'standalone');
      if (lost > 0) logger.warn({ lost }, 'attempts interrupted by the last shutdown were marked LOST');
    }
    const executor = new Executor({
      bus,
      logger: logger.child({ service: 'executor' }),
      runtimes: { local: createLocalRuntime(), noop: createNoopRuntime() },
      defaultRuntime: options.runtime ?? 'local',
      capacity: options.capacity ?? 16,
      startedGraceMs: RECOMMENDED_STARTED_GRACE_MS,
    });
    await executor.start();
    started.push(() => executor.stop({ graceMs: 10_000 }));
    const api = createApiService({
      pool, runs: scheduler, logs: collector, logger: logger.child({ service: 'api' }),
      host: options.host ?? '127.0.0.1', grpcPort: options.grpcPort, httpPort: options.httpPort,
    });
    const ports = await api.start();
    let stopping: Promise<void> | undefined;
    return {
      ...ports,
      pool,
      scheduler,
      stop: () => (stopping ??= (async () => {
        await api.stop();
        await executor.stop({ graceMs: 10_000 });
        await scheduler.stop();
        await collector.stop();
        await hotPathPool.end();
        await pool.end();
      })()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
