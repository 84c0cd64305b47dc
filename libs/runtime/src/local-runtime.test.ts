import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTaskNotStarted } from './errors';
import { createLocalRuntime } from './local-runtime';
import { createNoopRuntime } from './noop-runtime';
import type { OutputFlow, TaskLaunch, TaskOutput } from './runtime';

const baseEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function task(command: string[], overrides: Partial<TaskLaunch> = {}): TaskLaunch {
  return {
    attemptId: 'att-1', runId: 'run-1', workflow: 'wf', task: 'extract', attempt: 2,
    command, args: [], env: [], timeoutMs: 0, logicalDate: new Date('2026-01-02T03:04:05.000Z'),
    ...overrides,
  };
}

/** A process is gone when /proc has no entry for it or it is a zombie nobody reaped yet. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('local runtime', () => {
  let tempDir: string;
  beforeAll(() => { tempDir = mkdtempSync(path.join(os.tmpdir(), 'skein-runtime-test-')); });
  afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

  const runtime = () => createLocalRuntime({ baseEnv, tempDir, killGraceMs: 5000 });

  async function run(launch: TaskLaunch, rt = runtime()) {
    const lines: TaskOutput[] = [];
    const running = rt.launch(launch, (line) => lines.push(line));
    const result = await running.result;
    return { result, lines, running };
  }

  it('runs a command, splits its output into stamped lines, and reads its outputs', async () => {
    const before = Date.now();
    const { result, lines, running } = await run(task(['sh', '-c', 'echo hi; echo err >&2; printf "no newline"; echo \'{"rows":3}\' > "$SKEIN_OUTPUT_PATH"']));
    expect(result).toMatchObject({ ok: true, exitCode: 0, outputs: { rows: 3 } });
    expect(result.startTime.getTime()).toBeGreaterThanOrEqual(before);
    expect(result.endTime.getTime()).toBeGreaterThanOrEqual(result.startTime.getTime());
    await expect(running.started).resolves.toEqual(result.startTime);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['hi', 'no newline']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['err']);
    for (const line of lines) expect(line.time).toBeInstanceOf(Date);
  });

  it('passes command[1..] then args, without a shell', async () => {
    const { lines } = await run(task(['printf', '%s|'], { args: ['$HOME', 'a b'] }));
    expect(lines.map((l) => l.text)).toEqual(['$HOME|a b|']);
  });

  it('gives the task the SKEIN_* variables, TRACEPARENT, its own env and nothing else of the executor', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { lines, result } = await run(task(['env'], {
      env: [{ name: 'GREETING', value: 'hello', secret: false }, { name: 'SKEIN_TASK', value: 'spoofed', secret: false }],
      traceparent,
    }));
    expect(result.ok).toBe(true);
    const env = Object.fromEntries(lines.map((l) => [l.text.slice(0, l.text.indexOf('=')), l.text.slice(l.text.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      SKEIN_RUN_ID: 'run-1', SKEIN_WORKFLOW: 'wf', SKEIN_TASK: 'extract', SKEIN_ATTEMPT: '2', SKEIN_ATTEMPT_ID: 'att-1',
      SKEIN_LOGICAL_DATE: '2026-01-02T03:04:05.000Z', TRACEPARENT: traceparent, GREETING: 'hello', PATH: baseEnv.PATH,
    });
    expect(env['SKEIN_OUTPUT_PATH']).toMatch(new RegExp(`^${tempDir}/skein-attempt-[^/]+/outputs.json$`));
    expect(existsSync(path.dirname(env['SKEIN_OUTPUT_PATH'] ?? '/nonexistent'))).toBe(false);
    expect(env['SKEIN_TEST_DATABASE_URL']).toBeUndefined();
  });

  it('reports a non-zero exit as EXIT_CODE', async () => {
    const { result } = await run(task(['sh', '-c', 'exit 3']));
    expect(result).toMatchObject({ ok: false, reason: 'EXIT_CODE', exitCode: 3, message: 'exited with code 3' });
  });

  it('reports a death by signal as SIGNAL', async () => {
    const { result } = await run(task(['sh', '-c', 'kill -9 $$']));
    expect(result).toMatchObject({ ok: false, reason: 'SIGNAL', message: 'killed by signal SIGKILL' });
    expect(result.exitCode).toBeUndefined();
  });

  it('reports a missing command as SPAWN_FAILED, naming it, and rejects started', async () => {
    const { result, running } = await run(task(['mix', 'run']));
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED', message: 'command "mix" not found on PATH' });
    const error = await running.started.catch((err: unknown) => err);
    expect(isTaskNotStarted(error)).toBe(true);
  });

  it('reports a command that is not executable as SPAWN_FAILED', async () => {
    const script = path.join(tempDir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const { result } = await run(task([script]));
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED', message: `command "${script}" is not executable (permission denied)` });
  });

  it('fails an image-only task at once', async () => {
    const { result } = await run(task([], { image: 'registry.example.com/etl:1' }));
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED', message: 'the local runtime runs `command`; this task only has an image' });
  });

  it('fails a task whose outputs are not a JSON object with OUTPUT_INVALID', async () => {
    const { result } = await run(task(['sh', '-c', 'echo "[1,2]" > "$SKEIN_OUTPUT_PATH"']));
    expect(result).toMatchObject({ ok: false, reason: 'OUTPUT_INVALID', exitCode: 0 });
    expect(result.message).toMatch(/must be a JSON object, not an array/);
    const invalid = await run(task(['sh', '-c', 'echo "{rows: 3" > "$SKEIN_OUTPUT_PATH"']));
    expect(invalid.result).toMatchObject({ ok: false, reason: 'OUTPUT_INVALID' });
    expect(invalid.result.message).toMatch(/not valid JSON/);
  });

  it('kills the whole process group on timeout', async () => {
    const lines: TaskOutput[] = [];
    const running = runtime().launch(task(['sh', '-c', 'sleep 60 & echo $!; wait'], { timeoutMs: 500 }), (line) => lines.push(line));
    const result = await running.result;
    expect(result).toMatchObject({ ok: false, reason: 'TIMEOUT', message: 'killed: timeout after 500ms' });
    const sleepPid = Number(lines.find((l) => l.stream === 'stdout')?.text);
    expect(sleepPid).toBeGreaterThan(0);
    expect(isAlive(sleepPid)).toBe(false);
    expect(lines.filter((l) => l.stream === 'system').map((l) => l.text)).toEqual(["timeout after 500ms: sending SIGTERM to the task's process group"]);
  });

  it('sends SIGKILL after the grace period to a task that ignores SIGTERM', async () => {
    const rt = createLocalRuntime({ baseEnv, tempDir, killGraceMs: 300 });
    const lines: TaskOutput[] = [];
    const running = rt.launch(task(['sh', '-c', 'trap "" TERM; echo ready; sleep 60'], { timeoutMs: 60_000 }), (line) => {
      lines.push(line);
      if (line.text === 'ready') running.cancel('stop it');
    });
    const result = await running.result;
    expect(result).toMatchObject({ ok: false, reason: 'CANCELLED', message: 'cancelled (stop it)' });
    expect(lines.filter((l) => l.stream === 'system').map((l) => l.text)).toEqual([
      "cancelled (stop it): sending SIGTERM to the task's process group",
      'still running 300ms after SIGTERM: sending SIGKILL',
    ]);
  });

  it('cancels a running task', async () => {
    const rt = runtime();
    const running = rt.launch(task(['sleep', '60']), () => undefined);
    await running.started;
    expect(rt.activeCount).toBe(1);
    running.cancel('user asked');
    running.cancel('twice');
    await expect(running.result).resolves.toMatchObject({ ok: false, reason: 'CANCELLED', message: 'cancelled (user asked)' });
    expect(rt.activeCount).toBe(0);
  });

  it('kills what a finished task left running in its group', async () => {
    const lines: TaskOutput[] = [];
    const result = await runtime().launch(task(['sh', '-c', 'sleep 60 & echo $!']), (line) => lines.push(line)).result;
    expect(result.ok).toBe(true);
    const sleepPid = Number(lines[0]?.text);
    expect(sleepPid).toBeGreaterThan(0);
    expect(isAlive(sleepPid)).toBe(false);
  });

  it('killAll stops every running task', async () => {
    const rt = runtime();
    const a = rt.launch(task(['sleep', '60']), () => undefined);
    const b = rt.launch(task(['sleep', '60']), () => undefined);
    await Promise.all([a.started, b.started]);
    rt.killAll();
    const results = await Promise.all([a.result, b.result]);
    expect(results.map((r) => r.reason)).toEqual(['SIGNAL', 'SIGNAL']);
  });

  /** A flow the test opens and closes; `drained()` resolves when the test calls `open()`. */
  function manualFlow(): OutputFlow & { close(): void; open(): void } {
    let writable = true;
    let waiters: (() => void)[] = [];
    return {
      get writable() { return writable; },
      drained: () => (writable ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
      close() { writable = false; },
      open() {
        writable = true;
        const ready = waiters;
        waiters = [];
        for (const resolve of ready) resolve();
      },
    };
  }

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('stops reading while the flow is not writable: the task blocks on its pipe, and every line arrives after', async () => {
    const LINES = 300_000; // ~2 MB: far more than a pipe (64 KiB) and a read buffer hold
    const done = path.join(tempDir, 'backpressure-done');
    const flow = manualFlow();
    const lines: string[] = [];
    const running = runtime().launch(task(['sh', '-c', `seq 1 ${LINES}; touch '${done}'`]), (line) => {
      lines.push(line.text);
      if (lines.length === 1000) flow.close();
    }, flow);
    let settled = false;
    void running.result.then(() => { settled = true; });
    await running.started;
    while (lines.length < 1000) await pause(10);

    // Paused: nothing more is read, so the task cannot finish writing, however long we wait.
    await pause(300);
    const whilePaused = lines.length;
    await pause(300);
    expect(lines.length).toBe(whilePaused);
    expect(whilePaused).toBeLessThan(1000 + 64 * 1024); // at most the rest of the chunk that closed it
    expect(existsSync(done)).toBe(false);
    expect(settled).toBe(false);

    flow.open();
    const result = await running.result;
    expect(result.ok).toBe(true);
    expect(existsSync(done)).toBe(true);
    expect(lines.length).toBe(LINES);
    expect(lines.every((text, i) => text === String(i + 1))).toBe(true);
  });

  it('reads all a task wrote before it exited while reading was paused, even past stdioCloseMs', async () => {
    const flow = manualFlow();
    flow.close();
    const lines: string[] = [];
    // ~100 KB: the first read takes up to 64 KiB, the rest waits in the pipe after the task exited.
    const rt = createLocalRuntime({ baseEnv, tempDir, stdioCloseMs: 50 });
    const running = rt.launch(task(['seq', '1', '20000']), (line) => lines.push(line.text), flow);
    await running.started;
    await pause(500);
    flow.open();
    const result = await running.result;
    expect(result.ok).toBe(true);
    expect(lines.length).toBe(20_000);
    expect(lines.every((text, i) => text === String(i + 1))).toBe(true);
  });

  it('survives an onOutput that throws', async () => {
    const result = await runtime().launch(task(['echo', 'x']), () => { throw new Error('bug'); }).result;
    expect(result.ok).toBe(true);
  });
});

describe('noop runtime', () => {
  it('succeeds at once with no output', async () => {
    const rt = createNoopRuntime();
    const lines: TaskOutput[] = [];
    const running = rt.launch(task(['anything']), (line) => lines.push(line));
    const result = await running.result;
    expect(result).toMatchObject({ ok: true, exitCode: 0 });
    expect(result.endTime).toEqual(result.startTime);
    expect(lines).toEqual([]);
    expect(rt.runInline?.(task([]))).toMatchObject({ ok: true });
  });
});
