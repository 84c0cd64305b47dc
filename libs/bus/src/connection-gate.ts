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
  /** Requests in flight, each by the function that fails it when the connection drops. */
  private readonly inFlight = new Set<(err: Error) => void>();

  get connected(): boolean {
    return this.up;
  }

  /** Requests in flight now (watched by {@link whileConnected}). */
  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /**
   * Settles as `request` does, or rejects with {@link ConnectionLostError} if the connection drops
   * first. Each request is held only while it is in flight: racing every request against one shared
   * "connection lost" promise would instead leave a reaction on that promise per request, kept until
   * the next disconnect (a leak of every publish ever made on a healthy connection).
   */
  whileConnected<T>(request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inFlight.add(reject);
      request.then(
        (value) => {
          this.inFlight.delete(reject);
          resolve(value);
        },
        (err: unknown) => {
          this.inFlight.delete(reject);
          reject(err);
        },
      );
    });
  }

  disconnected(): void {
    if (!this.up) return;
    this.up = false;
    const lost = [...this.inFlight];
    this.inFlight.clear();
    for (const fail of lost) fail(new ConnectionLostError());
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

}
