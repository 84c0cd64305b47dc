import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const bin = path.join(repoRoot, 'apps', 'cli', 'bin', 'skein.js');

/** The new user's path: `skein standalone` in one terminal, the CLI in another. */
describe('skein standalone, driven by the CLI as separate processes', () => {
  let dataDir: string;
  let workDir: string;
  let grpcPort: number;
  let httpPort: number;
  let standalone: ChildProcess | undefined;
  let output = '';

  const skein = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, SKEIN_SERVER: `127.0.0.1:${grpcPort}`, SKEIN_DATA_DIR: dataDir, SKEIN_TOKEN: '' }, cwd: workDir },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });

  async function start(): Promise<void> {
    output = '';
    standalone = spawn(process.execPath, [bin, 'standalone', '--data-dir', dataDir, '--grpc-port', String(grpcPort),
      '--http-port', String(httpPort), '--workflows', path.join(workDir, 'none')], { stdio: ['ignore', 'pipe', 'pipe'] });
    standalone.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    standalone.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    // The banner arrives in several writes: wait for its last line, not its first.
    for (let i = 0; !output.includes('Press Ctrl-C to stop.'); i++) {
      if (i > 600 || standalone.exitCode !== null) throw new Error(`standalone did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(): Promise<number | null> {
    const child = standalone;
    standalone = undefined;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGINT');
    });
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet']);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'skein-standalone-'));
    // mkdtemp makes a 0700 directory; as root, PostgreSQL runs as the postgres user and must enter it.
    chmodSync(dataDir, 0o755);
    workDir = mkdtempSync(path.join(os.tmpdir(), 'skein-user-'));
    [grpcPort, httpPort] = await Promise.all([freePort(), freePort()]);
    await start();
  }, 120_000);

  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const adminToken = () => readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();

  it('creates an admin token on first start, in a 0600 file it names but never prints', () => {
    const secret = adminToken();
    expect(secret).toMatch(/^skn_[A-Za-z0-9_-]{43}$/);
    expect(statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(output).toContain(`API token  ${path.join(dataDir, 'admin-token')} (admin, created now;`);
    expect(output).toContain(`export SKEIN_DATA_DIR=${dataDir}`);
    expect(output).not.toContain(secret);
    expect(readFileSync(path.join(dataDir, 'skein.log'), 'utf8')).not.toContain(secret);
  });

  it('applies a diamond of the user\'s own, runs it to success, shows every log, and keeps it across a restart', async () => {
    writeFileSync(path.join(workDir, 'mine.yaml'), `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: mine}
spec:
  tasks:
    - name: a
      command: ["sh", "-c", "echo alpha; echo '{\\"n\\": 7}' > $SKEIN_OUTPUT_PATH"]
    - {name: b, dependsOn: [a], command: ["sh", "-c", "echo beta got $0", "{{ tasks.a.outputs.n }}"]}
    - {name: c, dependsOn: [a], command: ["echo", "gamma"]}
    - {name: d, dependsOn: [b, c], command: ["echo", "delta"]}
`);
    const applied = await skein('apply', '-f', 'mine.yaml');
    expect(applied).toMatchObject({ code: 0 });
    expect(applied.stdout).toContain('workflow mine: created version 1');

    const triggered = await skein('trigger', 'mine', '--wait');
    expect(triggered.code).toBe(0);
    const runId = triggered.stdout.trim().split('\n')[0] as string;
    expect(triggered.stdout).toMatch(/State:\s+succeeded/);

    const tasks = await skein('tasks', runId, '-o', 'json');
    const taskRuns = (JSON.parse(tasks.stdout) as { taskRuns: { task: string; state: string; attempts: { exitCode: number; outputs?: unknown }[] }[] }).taskRuns;
    expect(taskRuns.map((t) => t.state)).toEqual(Array(4).fill('TASK_RUN_STATE_SUCCEEDED'));
    expect(taskRuns[0]?.attempts[0]).toMatchObject({ exitCode: 0, outputs: { n: 7 } });

    for (const [task, line] of [['a', 'alpha'], ['b', 'beta got 7'], ['c', 'gamma'], ['d', 'delta']]) {
      const logs = await skein('logs', runId, task as string);
      expect(logs.code).toBe(0);
      expect(logs.stdout).toContain(line);
      // Skein's own lines about the attempt are marked as Skein's.
      expect(logs.stdout).toMatch(/^\[skein\] attempt 1 started on executor /m);
      expect(logs.stdout).toMatch(/^\[skein\] exited with code 0/m);
    }

    const paused = await skein('workflows', 'pause', 'mine');
    expect(paused).toMatchObject({ code: 0, stdout: 'workflow mine: paused (it has no schedule)\n' });
    expect(JSON.parse((await skein('workflows', 'get', 'mine', '-o', 'json')).stdout)).toMatchObject({ paused: true });
    const unauthenticated = await fetch(`http://127.0.0.1:${httpPort}/v1/workflows/mine:resume`, { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
    const resumed = await fetch(`http://127.0.0.1:${httpPort}/v1/workflows/mine:resume`, { method: 'POST', headers: { authorization: `Bearer ${adminToken()}` } });
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as { workflow: { paused?: boolean } }).workflow.paused ?? false).toBe(false);
    const missing = await fetch(`http://127.0.0.1:${httpPort}/v1/workflows/nope:pause`, { method: 'POST', headers: { authorization: `Bearer ${adminToken()}` } });
    expect(missing.status).toBe(404);

    const failing = await skein('trigger', 'nope', '--wait');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/nope/);

    // Cancel a running task: the run is CANCELLED and the task's process is really gone.
    writeFileSync(path.join(workDir, 'sleepy.yaml'), `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: sleepy}
spec:
  tasks:
    - {name: nap, command: ["sh", "-c", "echo $$ > ${path.join(workDir, 'nap.pid')}; exec sleep 60"]}
`);
    expect((await skein('apply', '-f', 'sleepy.yaml')).code).toBe(0);
    const sleepy = (await skein('trigger', 'sleepy')).stdout.trim();
    let pid = 0;
    for (let i = 0; i < 200 && !pid; i++) {
      try {
        pid = Number(readFileSync(path.join(workDir, 'nap.pid'), 'utf8').trim());
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(pid).toBeGreaterThan(0);
    const cancelled = await skein('cancel', sleepy, '--reason', 'testing cancel');
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/State:\s+cancelled/);
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (let i = 0; i < 100 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive()).toBe(false);
    const again = await skein('cancel', sleepy);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('had already ended');

    const tokenBefore = adminToken();
    expect(await stop()).toBe(0);
    await start();
    // The token outlives a restart.
    expect(adminToken()).toBe(tokenBefore);
    expect(output).toContain('(admin; send it as');
    const runs = await skein('runs', 'get', runId, '-o', 'json');
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject({ runId, state: 'RUN_STATE_SUCCEEDED' });
  }, 120_000);

  it('a second Skein on the same ports says so, exits 1 and leaves nothing running', async () => {
    const otherDir = mkdtempSync(path.join(os.tmpdir(), 'skein-second-'));
    chmodSync(otherDir, 0o755);
    try {
      const second = await new Promise<{ code: number | null; output: string }>((resolve) => {
        let text = '';
        const child = spawn(process.execPath, [bin, 'standalone', '--data-dir', otherDir, '--grpc-port', String(grpcPort), '--http-port', String(httpPort),
          '--workflows', path.join(workDir, 'none')], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.on('data', (d: Buffer) => { text += d.toString(); });
        child.stderr?.on('data', (d: Buffer) => { text += d.toString(); });
        child.once('exit', (code) => resolve({ code, output: text }));
      });
      expect(second.code).toBe(1);
      expect(second.output).toContain('skein: cannot start: a port is already in use');
      // Its PostgreSQL was stopped with it: nothing of the second data directory runs any more.
      expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(otherDir);
      // The first one serves on.
      expect((await skein('workflows', 'list')).code).toBe(0);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('backfills a scheduled workflow interval by interval, one at a time under maxActiveRuns, skipping what already ran', async () => {
    writeFileSync(path.join(workDir, 'daily.yaml'), `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: daily}
spec:
  schedule: "@daily"
  startDate: "2030-01-01T00:00:00Z"
  maxActiveRuns: 1
  tasks:
    - {name: load, command: ["sh", "-c", "echo loading {{ run.logicalDate }}"]}
`);
    expect((await skein('apply', '-f', 'daily.yaml')).code).toBe(0);
    const created = await skein('backfill', 'daily', '--from', '2026-01-01', '--to', '2026-01-04');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('3 run(s) created');
    const listRuns = async () => (JSON.parse((await skein('runs', 'list', '--workflow', 'daily', '-o', 'json')).stdout) as {
      runs: { state: string; logicalDate: string; trigger: string; startTime?: string }[] }).runs;
    let runs = await listRuns();
    for (let i = 0; i < 200 && runs.some((r) => r.state !== 'RUN_STATE_SUCCEEDED'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      runs = await listRuns();
    }
    const byDate = [...runs].sort((a, b) => a.logicalDate.localeCompare(b.logicalDate));
    expect(byDate.map((r) => [r.logicalDate, r.trigger, r.state])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'backfill', 'RUN_STATE_SUCCEEDED'],
      ['2026-01-02T00:00:00.000Z', 'backfill', 'RUN_STATE_SUCCEEDED'],
      ['2026-01-03T00:00:00.000Z', 'backfill', 'RUN_STATE_SUCCEEDED'],
    ]);
    // maxActiveRuns: 1 — each run started after the previous one (in logical-date order).
    const starts = byDate.map((r) => Date.parse(r.startTime ?? ''));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));

    const again = await skein('backfill', 'daily', '--from', '2026-01-01', '--to', '2026-01-04');
    expect(again.stdout).toContain('0 run(s) created, 3 interval(s) skipped');
    const rerun = await skein('backfill', 'daily', '--from', '2026-01-02', '--to', '2026-01-03', '--rerun-succeeded', '--max-active', '1', '-o', 'json');
    expect(JSON.parse(rerun.stdout).runs).toHaveLength(1);
    const badLimit = await skein('backfill', 'daily', '--from', '2026-01-01', '--to', '2026-01-04', '--max-active', '0');
    expect(badLimit.code).not.toBe(0);
    expect(badLimit.stderr).toMatch(/--max-active.*expected an integer from 1 to 1000/);

    const empty = await skein('backfill', 'daily', '--from', '2026-01-01T01:00:00Z', '--to', '2026-01-01T02:00:00Z');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no data interval of "@daily"/);
    const reversed = await skein('backfill', 'daily', '--from', '2026-01-04', '--to', '2026-01-01');
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/end_time: must be after start_time/);
    writeFileSync(path.join(workDir, 'manual.yaml'), 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: manual}\nspec:\n  tasks: [{name: t, command: ["true"]}]\n');
    expect((await skein('apply', '-f', 'manual.yaml')).code).toBe(0);
    const unscheduled = await skein('backfill', 'manual', '--from', '2026-01-01', '--to', '2026-01-04');
    expect(unscheduled.stderr).toMatch(/has no schedule/);
    const garbage = await skein('backfill', 'daily', '--from', 'yesterday', '--to', '2026-01-04');
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toMatch(/not a time/);
  }, 60_000);

  it('retries a failed run in place once the cause is fixed', async () => {
    const flag = path.join(workDir, 'fixed');
    writeFileSync(path.join(workDir, 'flaky.yaml'), `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: flaky}
spec:
  tasks:
    - {name: fetch, command: ["sh", "-c", "test -f ${flag} || { echo 'not fixed yet' >&2; exit 3; }"]}
    - {name: report, dependsOn: [fetch], command: ["echo", "reported"]}
`);
    expect((await skein('apply', '-f', 'flaky.yaml')).code).toBe(0);
    const failed = await skein('trigger', 'flaky', '--wait');
    expect(failed.code).toBe(1);
    const runId = failed.stdout.trim().split('\n')[0] as string;
    writeFileSync(flag, '');
    const retried = await skein('runs', 'retry', runId);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain('retrying fetch, report');
    let state = '';
    for (let i = 0; i < 200 && state !== 'RUN_STATE_SUCCEEDED'; i++) {
      state = (JSON.parse((await skein('runs', 'get', runId, '-o', 'json')).stdout) as { state: string }).state;
      if (state !== 'RUN_STATE_SUCCEEDED') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state).toBe('RUN_STATE_SUCCEEDED');
    const tasks = JSON.parse((await skein('tasks', runId, '-o', 'json')).stdout) as { taskRuns: { task: string; attempts: { number: number; state: string; exitCode?: number }[] }[] };
    expect(tasks.taskRuns[0]?.attempts.map((a) => [a.number, a.state, a.exitCode ?? 0])).toEqual([[1, 'ATTEMPT_STATE_FAILED', 3], [2, 'ATTEMPT_STATE_SUCCEEDED', 0]]);
    const nothing = await skein('runs', 'retry', runId);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/has no failed, upstream-failed or cancelled task to retry/);
  }, 60_000);
});
