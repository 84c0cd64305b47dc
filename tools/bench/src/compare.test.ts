// `npm run bench -- compare --quick` end to end, so the harness never rots: every system that can run
// here produces every figure. Run against the built entry point, as `npm run bench` runs it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bullmqUnavailable } from './adapter-bullmq';
import type { CompareReport } from './compare-report';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skein-compare-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCompare(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'tools', 'bench', 'main.js'), 'compare', ...args], {
      env: { ...process.env, BENCH_DATABASE_URL: process.env['SKEIN_TEST_DATABASE_URL'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('compare --quick runs every workload on every system and writes the raw figures', async () => {
  execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet']);
  const json = path.join(dir, 'latest.json');
  const { code, stdout, stderr } = await runCompare(['--quick', '--json', json, '--no-docs']);
  if (code !== 0) throw new Error(`compare --quick ended with ${code}:\n${stderr.slice(-4000)}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as CompareReport;

  expect(report.quick).toBe(true);
  expect(report.systems.map((s) => s.system)).toEqual(['Skein', 'graphile-worker', 'pg-boss', 'BullMQ']);
  for (const system of report.systems) {
    if (system.system === 'BullMQ' && bullmqUnavailable()) {
      // Skipped only for the one reason the harness cannot help: no Redis client package installed.
      expect(system.skipped).toContain('ioredis');
      continue;
    }
    expect(system.skipped).toBeUndefined();
    const expected = ['W1', 'W2', 'W3', 'W4', 'W5', ...(system.system === 'Skein' ? ['W1-runs'] : [])].sort();
    expect(Object.keys(system.workloads).sort()).toEqual(expected);
    for (const [workload, figures] of Object.entries(system.workloads)) {
      expect(Object.keys(figures).length).toBeGreaterThan(0);
      for (const [name, figure] of Object.entries(figures)) {
        if (!Number.isFinite(figure.median)) throw new Error(`${system.system} ${workload} ${name}: ${figure.median}`);
      }
    }
    expect(system.workloads['W1']?.['tasks_per_s']?.median).toBeGreaterThan(0);
    expect(system.duplicates).toBe(0);
    expect(Object.values(system.peakRssBytes).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }
  expect(stdout).toContain('| figure');
}, 180_000);
