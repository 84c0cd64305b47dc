import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const bin = path.join(repoRoot, 'apps', 'cli', 'bin', 'skein.js');
const python = '/usr/bin/python3';
const script = path.join(repoRoot, 'tests', 'python', 'skein_client_test.py');

/**
 * A client not written in TypeScript: tests/python/skein_client_test.py generates its stubs from
 * proto/ and drives a real `skein standalone` over gRPC. It passes only if the script exits 0.
 * Needs Debian's python3-grpcio and python3-grpc-tools (.ci/run installs them).
 */
describe('a Python gRPC client against skein standalone', () => {
  let dataDir: string;
  let workDir: string;
  let grpcPort: number;
  let standalone: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(python)) throw new Error(`${python} is missing: apt-get install -y python3-grpcio python3-grpc-tools`);
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet']);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'skein-python-'));
    // mkdtemp makes a 0700 directory; as root, PostgreSQL runs as the postgres user and must enter it.
    chmodSync(dataDir, 0o755);
    workDir = mkdtempSync(path.join(os.tmpdir(), 'skein-python-work-'));
    const [g, h] = await Promise.all([freePort(), freePort()]);
    grpcPort = g;
    standalone = spawn(process.execPath, [bin, 'standalone', '--data-dir', dataDir, '--grpc-port', String(g),
      '--http-port', String(h), '--workflows', path.join(workDir, 'none')], { stdio: ['ignore', 'pipe', 'pipe'] });
    standalone.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    standalone.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (!output.includes('Skein is running')) return;
        cleanup();
        resolve();
      };
      const onExit = () => { cleanup(); reject(new Error(`standalone exited before it started:\n${output}`)); };
      const cleanup = () => {
        standalone?.stdout?.off('data', onData);
        standalone?.stderr?.off('data', onData);
        standalone?.off('exit', onExit);
      };
      standalone?.stdout?.on('data', onData);
      standalone?.stderr?.on('data', onData);
      standalone?.once('exit', onExit);
    });
  }, 120_000);

  afterAll(async () => {
    const child = standalone;
    if (child && child.exitCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGINT');
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('generates stubs from proto/ and passes every check of the Python script', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      // The standalone's admin token, in the environment (not on a command line, where `ps` shows it).
      const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
      execFile(python, [script, '--server', `127.0.0.1:${grpcPort}`, '--repo', repoRoot], { timeout: 170_000, env: { ...process.env, SKEIN_TOKEN: token } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    if (result.code !== 0) throw new Error(`the Python client failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    expect(result.stdout).toContain('python client: all checks passed');
  }, 180_000);
});
