// `npm run bench -- compare [--quick]`: Skein, graphile-worker, pg-boss and BullMQ on the same workloads,
// one system after the other, each in a child process of its own (`compare-system`), on one PostgreSQL.
// Prints a table, writes tools/bench/results/latest.json and the comparison section of docs/benchmarks.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '@skein/store';
import { natsServerBinary, redisServerBinary } from '@skein/testing';
import { markdownSection, markdownTable, replaceSection, type CompareReport } from './compare-report';
import { fullSizes, quickSizes, runSystem, systemNames, type CompareSizes, type SystemName, type SystemResult } from './compare-system';

interface CompareArgs {
  quick: boolean;
  sizes: CompareSizes;
  systems: SystemName[];
  jsonFile: string;
  docsFile: string | undefined;
  /** Render from these saved reports (merged in order) instead of running. */
  from: string[];
}

const usage = 'usage: npm run bench -- compare [--quick] [--runs N] [--slots N] [--systems Skein,graphile-worker,pg-boss,BullMQ] '
  + '[--only W1,W2,...] [--json FILE] [--no-docs] [--from SAVED.json[,MORE.json]]';

/** Merges saved reports: the first one's run, with each later one's workloads added to the same system. */
export function mergeReports(reports: readonly CompareReport[]): CompareReport {
  const [first, ...rest] = reports;
  if (!first) throw new Error('--from needs at least one file');
  const systems = first.systems.map((s) => ({ ...s, workloads: { ...s.workloads } }));
  for (const r of rest) {
    for (const s of r.systems) {
      const target = systems.find((x) => x.system === s.system);
      if (target) Object.assign(target.workloads, s.workloads);
      else systems.push(s);
    }
  }
  return { ...first, systems };
}

function write(report: CompareReport, args: CompareArgs, log: (l: string) => void): void {
  process.stdout.write(`${markdownTable(report)}\n`);
  for (const s of report.systems) if (s.skipped) process.stdout.write(`${s.system} did not run: ${s.skipped}\n`);
  mkdirSync(path.dirname(args.jsonFile), { recursive: true });
  writeFileSync(args.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  if (args.docsFile) writeFileSync(args.docsFile, replaceSection(readFileSync(args.docsFile, 'utf8'), markdownSection(report)));
  log(`wrote ${args.jsonFile}${args.docsFile ? ` and ${args.docsFile}` : ''}`);
}

export function parseCompareArgs(argv: readonly string[], repoRoot: string): CompareArgs {
  const quick = argv.includes('--quick');
  let sizes: CompareSizes = quick ? quickSizes : fullSizes;
  let systems: SystemName[] = [...systemNames];
  // A --quick smoke run must not overwrite the measured results: its JSON goes elsewhere, the docs stay.
  let jsonFile = path.join(repoRoot, 'tools', 'bench', 'results', quick ? 'quick.json' : 'latest.json');
  let docsFile: string | undefined = quick ? undefined : path.join(repoRoot, 'docs', 'benchmarks.md');
  let from: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    const whole = () => { const n = Number(value); if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive whole number`); i++; return n; };
    if (flag === '--quick') continue;
    else if (flag === '--no-docs') docsFile = undefined;
    else if (flag === '--runs') sizes = { ...sizes, runs: whole() };
    else if (flag === '--slots') sizes = { ...sizes, slots: whole() };
    else if (flag === '--json') { jsonFile = path.resolve(value); i++; }
    else if (flag === '--only') { sizes = { ...sizes, only: value.split(',').map((w) => w.trim().toUpperCase()) }; i++; }
    else if (flag === '--from') { from = value.split(',').map((f) => path.resolve(f)); i++; }
    else if (flag === '--systems') {
      systems = value.split(',').map((s) => {
        const found = systemNames.find((n) => n.toLowerCase() === s.trim().toLowerCase());
        if (!found) throw new Error(`unknown system ${s} (one of ${systemNames.join(', ')})`);
        return found;
      });
      i++;
    } else throw new Error(`unknown option ${flag}\n${usage}`);
  }
  return { quick, sizes, systems, jsonFile, docsFile, from };
}

function versionOf(binary: () => string, args: string[]): string {
  try {
    return execFileSync(binary(), args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

async function machine(serverUrl: string): Promise<Record<string, string>> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  const pg = await client.query<{ server_version: string }>('SHOW server_version').finally(() => client.end());
  const cpus = os.cpus();
  return {
    cpus: `${cpus.length} vCPU ${cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? ''}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    postgres: pg.rows[0]?.server_version ?? '?',
    nats: versionOf(natsServerBinary, ['--version']),
    redis: versionOf(redisServerBinary, ['--version']).replace(/ sha=.*$/, ''),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

/** Runs one system in a child process (this same entry point, `compare-system`); resolves with its result. */
function runChild(name: SystemName, serverUrl: string, sizes: CompareSizes, log: (l: string) => void): Promise<SystemResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1] as string, 'compare-system', name, JSON.stringify({ serverUrl, sizes })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { for (const line of d.split('\n')) if (line) log(line.replace(/^bench: /, '')); });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as SystemResult);
      else reject(new Error(`${name}: the benchmark process ended with ${signal ?? `code ${code}`}`));
    });
  });
}

/** The `compare-system` child: one system, result as the last stdout line. */
export async function compareSystemChild(argv: readonly string[], log: (l: string) => void): Promise<void> {
  const name = argv[0] as SystemName;
  const { serverUrl, sizes } = JSON.parse(argv[1] ?? '{}') as { serverUrl: string; sizes: CompareSizes };
  const result = await runSystem(name, serverUrl, sizes, log);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function compare(argv: readonly string[], log: (l: string) => void): Promise<CompareReport> {
  const repoRoot = path.resolve(__dirname, '..', '..', '..');
  const args = parseCompareArgs(argv, repoRoot);
  if (args.from.length > 0) {
    const report = mergeReports(args.from.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CompareReport));
    write(report, args, log);
    return report;
  }
  let serverUrl = process.env['BENCH_DATABASE_URL'];
  const postgres = serverUrl ? undefined : await startEmbeddedPostgres();
  serverUrl ??= postgres?.url as string;
  try {
    const systems: SystemResult[] = [];
    const date = new Date().toISOString();
    const machineInfo = await machine(serverUrl);
    for (const name of args.systems) {
      log(`${name} ...`);
      try {
        systems.push(await runChild(name, serverUrl, args.sizes, log));
      } catch (err) {
        // One system failing must not throw away the others' figures: it is reported as not run.
        systems.push({ system: name, version: '?', configuration: '', skipped: `failed: ${(err as Error).message}`, workloads: {}, peakRssBytes: {}, duplicates: 0 });
      }
      // Saved after each system, so a long run interrupted keeps what it measured (render it with --from).
      mkdirSync(path.dirname(args.jsonFile), { recursive: true });
      writeFileSync(`${args.jsonFile}.partial`, JSON.stringify({ date, quick: args.quick, machine: machineInfo, sizes: args.sizes, systems }, null, 2));
    }
    const report: CompareReport = { date, quick: args.quick, machine: machineInfo, sizes: args.sizes, systems };
    write(report, args, log);
    rmSync(`${args.jsonFile}.partial`, { force: true });
    return report;
  } finally {
    await postgres?.stop();
  }
}
