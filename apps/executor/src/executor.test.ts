import { readFileSync } from 'node:fs';
import pino from 'pino';
import { createInProcessBus, createNatsBus, subjects, type Bus } from '@skein/bus';
import { CancelAttempt, LogLineStream, type LogLine } from '@skein/proto';
import { createLocalRuntime, createNoopRuntime } from '@skein/runtime';
import { startNatsServer, type NatsServer } from '@skein/testing';
import { BusRecorder, makeDispatch, publishDispatch } from './bus-recorder.test-helper';
import { Executor } from './executor';

const silent = pino({ enabled: false });

/** A process is gone when /proc has no entry for it, or it is a zombie nobody reaped yet. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

const texts = (lines: LogLine[], stream?: LogLineStream) => lines.filter((l) => stream === undefined || l.stream === stream).map((l) => l.text);

interface BusFixture {
  readonly bus: Bus;
  close(): Promise<void>;
}

const buses: [string, () => Promise<BusFixture>][] = [
  ['in-process bus', async () => {
    const bus = createInProcessBus();
    return { bus, close: () => bus.close() };
  }],
  ['NATS bus', async () => {
    const server: NatsServer = await startNatsServer();
    const bus = await createNatsBus({ servers: server.url, name: 'executor-test', logger: silent });
    return { bus, close: async () => { await bus.close(); await server.stop(); } };
  }],
];

describe.each(buses)('Executor on the %s', (_name, makeBus) => {
  let fixture: BusFixture;
  let bus: Bus;
  let recorder: BusRecorder;
  let executor: Executor;

  beforeAll(async () => {
    fixture = await makeBus();
    bus = fixture.bus;
    recorder = await BusRecorder.start(bus);
    executor = new Executor({
      bus,
      logger: silent,
      identity: 'executor-test@host',
      runtimes: { local: createLocalRuntime({ killGraceMs: 2000 }), noop: createNoopRuntime() },
    });
    await executor.start();
  });

  afterAll(async () => {
    await executor?.stop({ graceMs: 5000 });
    await recorder?.stop();
    await fixture?.close();
  });

  it('runs a task: started, every line numbered and stamped, succeeded with outputs', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const dispatch = makeDispatch({
      command: ['sh', '-c', 'echo hi; echo err >&2; echo \'{"rows":3}\' > "$SKEIN_OUTPUT_PATH"'],
      traceparent,
    });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toEqual({
      $case: 'succeeded',
      succeeded: { startTime: expect.any(Date), endTime: expect.any(Date), exitCode: 0, outputsJson: '{"rows":3}' },
    });
    expect(end.subject).toBe(subjects.event(dispatch.runId));
    expect(end.headers['traceparent']).toBe(traceparent);
    expect(end.event).toMatchObject({ runId: dispatch.runId, task: 'extract', attempt: 1, executor: 'executor-test@host' });

    const events = recorder.eventsOf(dispatch.attemptId);
    expect(events.map((e) => e.event.kind?.$case)).toEqual(['started', 'succeeded']);

    const lines = await recorder.log(dispatch.attemptId);
    expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
    for (const line of lines) expect(line.time).toBeInstanceOf(Date);
    expect(lines[0]).toMatchObject({ sequence: 1, stream: LogLineStream.LOG_LINE_STREAM_SYSTEM, text: 'attempt 1 started on executor executor-test@host' });
    expect(texts(lines, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(['hi']);
    expect(texts(lines, LogLineStream.LOG_LINE_STREAM_STDERR)).toEqual(['err']);
    expect(lines.at(-1)?.text).toMatch(/^exited with code 0 in \d+(\.\d)?m?s$/);
    const batches = recorder.batchesOf(dispatch.attemptId);
    expect(batches.filter((b) => b.finalCount !== undefined).map((b) => b.finalCount)).toEqual([lines.length]);
    for (const batch of batches) expect(batch).toMatchObject({ runId: dispatch.runId, task: 'extract', attempt: 1 });
  });

  it('reports a non-zero exit as failed EXIT_CODE with the exit code', async () => {
    const dispatch = makeDispatch({ command: ['sh', '-c', 'exit 3'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'EXIT_CODE', exitCode: 3, message: 'exited with code 3' } });
    expect((await recorder.log(dispatch.attemptId)).at(-1)?.text).toMatch(/^exited with code 3 in /);
  });

  it('kills the whole process group on timeout', async () => {
    const dispatch = makeDispatch({ command: ['sh', '-c', 'sleep 60 & echo $!; wait'], timeoutMs: 500 });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'TIMEOUT', message: 'killed: timeout after 500ms' } });
    const lines = await recorder.log(dispatch.attemptId);
    const sleepPid = Number(texts(lines, LogLineStream.LOG_LINE_STREAM_STDOUT)[0]);
    expect(sleepPid).toBeGreaterThan(0);
    expect(isAlive(sleepPid)).toBe(false);
    expect(lines.at(-1)?.text).toBe('killed: timeout after 500ms');
  });

  it('cancels a running attempt on a core cancel message', async () => {
    const dispatch = makeDispatch({ command: ['sh', '-c', 'echo ready; sleep 60'] });
    await publishDispatch(bus, dispatch);
    await recorder.until(() => recorder.eventsOf(dispatch.attemptId).find((e) => e.event.kind?.$case === 'started'), 'started');
    bus.publishCore(subjects.cancel(dispatch.attemptId), CancelAttempt.encode({ attemptId: dispatch.attemptId, reason: 'user asked' }).finish());
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'CANCELLED', message: 'cancelled (user asked)' } });
    expect((await recorder.log(dispatch.attemptId)).at(-1)?.text).toMatch(/^killed: cancelled \(user asked\) after /);
  });

  it('cancels a dispatch whose cancel arrived first', async () => {
    const dispatch = makeDispatch({ command: ['sleep', '60'] });
    bus.publishCore(subjects.cancel(dispatch.attemptId), CancelAttempt.encode({ attemptId: dispatch.attemptId, reason: 'run cancelled' }).finish());
    // A started task of another attempt proves the cancel went through the bus before the dispatch.
    const probe = makeDispatch({ command: ['true'] });
    await publishDispatch(bus, probe);
    await recorder.terminal(probe.attemptId);
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'CANCELLED' } });
  });

  it('never publishes the value of a secret variable', async () => {
    const dispatch = makeDispatch({
      command: ['sh', '-c', 'echo "token=$API_TOKEN user=$API_USER" ; echo "$API_TOKEN" > "$SKEIN_OUTPUT_PATH"'],
      env: [{ name: 'API_TOKEN', value: 's3cr3t-t0ken', secret: true }, { name: 'API_USER', value: 'etl', secret: false }],
    });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    // The outputs file holds the secret and is not JSON: the failure message quotes it redacted, if at all.
    expect(end.event.kind?.$case).toBe('failed');
    expect(JSON.stringify(end.event)).not.toContain('s3cr3t-t0ken');
    const lines = await recorder.log(dispatch.attemptId);
    expect(texts(lines, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(['token=*** user=etl']);
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-t0ken');
  });

  it('reports a command that cannot be spawned, naming it, without a started event', async () => {
    const dispatch = makeDispatch({ command: ['mix', 'run', '-e', 'Etl.extract()'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'SPAWN_FAILED', message: 'command "mix" not found on PATH' } });
    expect(end.event.kind?.$case === 'failed' && end.event.kind.failed.exitCode).toBeUndefined();
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['failed']);
    expect(texts(await recorder.log(dispatch.attemptId))).toEqual([
      'attempt 1 started on executor executor-test@host',
      'failed to start: command "mix" not found on PATH',
    ]);
  });

  it('fails an attempt whose outputs are not JSON with OUTPUT_INVALID', async () => {
    const dispatch = makeDispatch({ command: ['sh', '-c', 'echo "rows=3" > "$SKEIN_OUTPUT_PATH"'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'OUTPUT_INVALID', exitCode: 0 } });
    expect(end.event.kind?.$case === 'failed' && end.event.kind.failed.message).toMatch(/SKEIN_OUTPUT_PATH are not valid JSON/);
  });

  it('gives the task its SKEIN_* variables and TRACEPARENT', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const dispatch = makeDispatch({
      command: ['sh', '-c', 'echo "$SKEIN_RUN_ID|$SKEIN_WORKFLOW|$SKEIN_TASK|$SKEIN_ATTEMPT|$SKEIN_ATTEMPT_ID|$SKEIN_LOGICAL_DATE|$TRACEPARENT"; test -n "$SKEIN_OUTPUT_PATH"'],
      attempt: 2,
      traceparent,
    });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind?.$case).toBe('succeeded');
    expect(texts(await recorder.log(dispatch.attemptId), LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual([
      `${dispatch.runId}|sports-etl|extract|2|${dispatch.attemptId}|2026-03-01T00:00:00.000Z|${traceparent}`,
    ]);
  });

  it('batches a long log and numbers it without gaps', async () => {
    const dispatch = makeDispatch({ command: ['sh', '-c', 'i=0; while [ $i -lt 1200 ]; do echo "line $i"; i=$((i+1)); done'] });
    await publishDispatch(bus, dispatch);
    await recorder.terminal(dispatch.attemptId);
    const lines = await recorder.log(dispatch.attemptId);
    expect(lines).toHaveLength(1202);
    expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
    expect(texts(lines, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    const batches = recorder.batchesOf(dispatch.attemptId);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const batch of batches) expect(batch.lines.length).toBeLessThanOrEqual(500);
  });

  it('runs a noop task with one succeeded event and no log', async () => {
    const dispatch = makeDispatch({ runtime: 'noop', command: ['anything'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toEqual({
      $case: 'succeeded',
      succeeded: { startTime: expect.any(Date), endTime: expect.any(Date), exitCode: 0, outputsJson: '' },
    });
    // A later task's complete log proves the log stream was read past this attempt.
    const later = makeDispatch({ command: ['true'] });
    await publishDispatch(bus, later);
    await recorder.log(later.attemptId);
    expect(recorder.eventsOf(dispatch.attemptId)).toHaveLength(1);
    expect(recorder.batchesOf(dispatch.attemptId)).toEqual([]);
  });

  it('fails a dispatch for a runtime this executor does not offer', async () => {
    const dispatch = makeDispatch({ runtime: 'kubernetes', image: 'registry.example.com/etl:1' });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'SPAWN_FAILED' } });
    expect(end.event.kind?.$case === 'failed' && end.event.kind.failed.message).toMatch(/^runtime "kubernetes" is not offered by executor executor-test@host \(it offers local, noop\)/);
  });
});
