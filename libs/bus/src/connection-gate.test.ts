import { ConnectionGate, ConnectionLostError } from './connection-gate';

describe('ConnectionGate.whileConnected', () => {
  it('settles as the request does and holds nothing afterwards', async () => {
    const gate = new ConnectionGate();
    await expect(gate.whileConnected(Promise.resolve('acked'))).resolves.toBe('acked');
    await expect(gate.whileConnected(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(gate.requestsInFlight).toBe(0);
  });

  it('keeps no trace of the requests of a healthy connection, however many (no leak per publish)', async () => {
    const gate = new ConnectionGate();
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => gate.whileConnected(Promise.resolve(i))));
    expect(gate.requestsInFlight).toBe(0);
  });

  it('fails every request in flight with ConnectionLostError when the connection drops, and only those', async () => {
    const gate = new ConnectionGate();
    const never = new Promise<void>(() => undefined);
    const pending = [gate.whileConnected(never), gate.whileConnected(never)];
    const done = gate.whileConnected(Promise.resolve('done'));
    await expect(done).resolves.toBe('done');
    expect(gate.requestsInFlight).toBe(2);

    gate.disconnected();

    for (const p of pending) await expect(p).rejects.toBeInstanceOf(ConnectionLostError);
    expect(gate.requestsInFlight).toBe(0);
    expect(gate.connected).toBe(false);
    // A request made after the reconnect is failed by the next drop.
    gate.reconnectedNow();
    let settled = false;
    void gate.whileConnected(never).catch(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    gate.disconnected();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
  });

  it('lets a request that fails after its connection dropped go without an unhandled rejection', async () => {
    const gate = new ConnectionGate();
    let fail!: (err: Error) => void;
    const request = new Promise<void>((_, reject) => (fail = reject));
    const watched = gate.whileConnected(request);
    gate.disconnected();
    await expect(watched).rejects.toBeInstanceOf(ConnectionLostError);
    fail(new Error('timed out later'));
    await new Promise((resolve) => setImmediate(resolve));
  });
});
