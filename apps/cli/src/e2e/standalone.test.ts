import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, SKEIN_SERVER: `127.0.0.1:${grpcPort}` }, cwd: workDir },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });

  async function start(): Promise<void> {
    output = '';
    standalone = spawn(process.execPath, [bin, 'standalone', '--data-dir', dataDir, '--grpc-port', String(grpcPort),
      '--http-port', String(httpPort), '--workflows', path.join(workDir, 'none')], { stdio: ['ignore', 'pipe', 'pipe'] });
    standalone.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    standalone.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    for (let i = 0; !output.includes('Skein is running'); i++) {
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

    const failing = await skein('trigger', 'nope', '--wait');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/nope/);

    expect(await stop()).toBe(0);
    await start();
    const runs = await skein('runs', 'get', runId, '-o', 'json');
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject({ runId, state: 'RUN_STATE_SUCCEEDED' });
  }, 120_000);
});
