import type { Logger } from 'pino';

export interface ShutdownOptions {
  readonly logger: Logger;
  /** After this long the shutdown is forced. @default 30000 */
  readonly timeoutMs?: number;
  /** @default ['SIGINT', 'SIGTERM'] */
  readonly signals?: readonly NodeJS.Signals[];
}

export type ShutdownHook = () => Promise<void> | void;

/**
 * Ordered, named shutdown hooks run on the first signal (stop taking work → drain → close clients
 * → flush telemetry: register them in that order). A second signal or the timeout forces the end.
 * It never exits the process itself: `done` resolves with the exit code for main to use.
 */
export class Shutdown {
  private readonly hooks: { name: string; hook: ShutdownHook }[] = [];
  private started = false;
  private resolveDone!: (code: number) => void;
  /** Resolves with 0 after a clean shutdown, 1 after a forced or failed one. */
  readonly done = new Promise<number>((resolve) => { this.resolveDone = resolve; });
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.started) {
      this.options.logger.warn({ signal }, 'second signal: forcing shutdown');
      this.resolveDone(1);
      return;
    }
    this.options.logger.info({ signal }, 'shutting down (send the signal again to force)');
    void this.run();
  };

  constructor(private readonly options: ShutdownOptions) {}

  /** Adds a hook; hooks run in the order they were added. */
  add(name: string, hook: ShutdownHook): this {
    this.hooks.push({ name, hook });
    return this;
  }

  listen(): this {
    for (const signal of this.options.signals ?? ['SIGINT', 'SIGTERM']) process.on(signal, this.onSignal);
    return this;
  }

  /** Runs the hooks now (also what a signal does). */
  async run(): Promise<number> {
    if (this.started) return this.done;
    this.started = true;
    const timer = setTimeout(() => {
      this.options.logger.error({ timeoutMs: this.options.timeoutMs ?? 30_000 }, 'shutdown timed out: forcing');
      this.resolveDone(1);
    }, this.options.timeoutMs ?? 30_000);
    timer.unref();
    let code = 0;
    for (const { name, hook } of this.hooks) {
      try {
        await hook();
      } catch (err) {
        code = 1;
        this.options.logger.error({ err, hook: name }, 'shutdown hook failed');
      }
    }
    clearTimeout(timer);
    for (const signal of this.options.signals ?? ['SIGINT', 'SIGTERM']) process.off(signal, this.onSignal);
    this.resolveDone(code);
    return this.done;
  }
}
