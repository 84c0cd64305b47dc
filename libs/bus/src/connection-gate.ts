/** Raised (internally) when the connection drops while a request is out: the request is lost. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';

  constructor() {
    super('the NATS connection dropped while the request was in flight');
  }
}

/**
 * Tracks whether the NATS connection is up, from its status events.
 *
 * nats.js discards what it buffered while disconnected, and a request in flight when the
 * connection drops never gets its reply. Without this, a publish during an outage would sit out
 * its whole request timeout; with it, the publish waits for the reconnect and retries at once.
 */
export class ConnectionGate {
  private up = true;
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;
  private lost = ConnectionGate.lostSignal();

  get connected(): boolean {
    return this.up;
  }

  /** Rejects with {@link ConnectionLostError} at the next disconnect (shared by all requests in flight). */
  get connectionLost(): Promise<never> {
    return this.lost.promise;
  }

  disconnected(): void {
    if (!this.up) return;
    this.up = false;
    this.lost.reject(new ConnectionLostError());
    this.lost = ConnectionGate.lostSignal();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.reconnected = { promise, resolve };
  }

  reconnectedNow(): void {
    this.up = true;
    this.reconnected?.resolve();
    this.reconnected = undefined;
  }

  /** Resolves when connected, or at `deadline` (epoch ms), whichever comes first. */
  async waitUntilConnected(deadline: number): Promise<void> {
    if (this.up || !this.reconnected) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.reconnected.promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }

  /** Also releases waiters when the bus closes. */
  close(): void {
    this.reconnectedNow();
  }

  private static lostSignal(): { promise: Promise<never>; reject: (err: Error) => void } {
    let reject!: (err: Error) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    // Nobody may be racing against it when it fires; that is fine.
    promise.catch(() => undefined);
    return { promise, reject };
  }
}
