// `npm run bench -- logs [--lines N] [--tail-lines M]`: task stdout → stored lines per second, and
// tail latency (line written by the task → received by a live TailLogs client) p50/p99, through the
// four services as processes (local runtime) on PostgreSQL and nats-server.
import { credentials } from '@grpc/grpc-js';
import path from 'node:path';
import { Client } from 'pg';
import { bearerTokenInterceptor } from '@skein/config';
import { LogServiceClient, type TailLogsResponse } from '@skein/proto';
import { startEmbeddedPostgres } from '@skein/store';
import { startServiceStack, type ServiceStack } from '@skein/testing';
import { quantile } from './measure';

interface LogsArgs {
  lines: number;
  tailLines: number;
}

function parseLogsArgs(argv: string[]): LogsArgs {
  const args: LogsArgs = { lines: 100_000, tailLines: 2000 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive whole number`);
    if (flag === '--lines') args.lines = value;
    else if (flag === '--tail-lines') args.tailLines = value;
    else throw new Error(`unknown option ${flag} (usage: npm run bench -- logs [--lines N] [--tail-lines M])`);
  }
  return args;
}

function workflow(name: string, command: string[]): string {
  return JSON.stringify({ apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name }, spec: { tasks: [{ name: 'write', command }] } });
}

async function trigger(stack: ServiceStack, name: string, command: string[]): Promise<string> {
  await stack.api.ok('POST', '/v1/workflows:apply', { source: workflow(name, command), fileName: `${name}.json` });
  return (await stack.api.ok<{ run: { runId: string } }>('POST', `/v1/workflows/${name}/runs`, {})).run.runId;
}

/** Task stdout → stored: N lines from `seq`, from the first line's write time to the commit of the last. */
async function measureThroughput(stack: ServiceStack, lines: number, log: (line: string) => void): Promise<{ seconds: number; linesPerS: number }> {
  const runId = await trigger(stack, 'bench-logs-throughput', ['seq', '1', String(lines)]);
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    for (;;) {
      const { rows } = await db.query<{ first: Date; stored: Date; stored_count: string; final_count: string | null }>(
        `SELECT (SELECT min(l.time) FROM log_lines l WHERE l.attempt_id = a.attempt_id AND l.stream = 1) AS first, a.update_time AS stored,
                a.stored_count, a.final_count
           FROM log_attempts a JOIN attempts t ON t.id = a.attempt_id WHERE t.run_id = $1`, [runId]);
      const row = rows[0];
      if (row && row.final_count !== null && Number(row.stored_count) >= Number(row.final_count)) {
        const seconds = (row.stored.getTime() - row.first.getTime()) / 1000;
        return { seconds, linesPerS: Math.round(lines / seconds) };
      }
      if (row) log(`stored ${row.stored_count} lines ...`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await db.end();
  }
}

/** Each line carries its write time; a TailLogs client started before the task measures arrival − write. */
async function measureTailLatency(stack: ServiceStack, lines: number): Promise<number[]> {
  // One line per millisecond (paced, as a real task writes), each its own write time.
  const script = `let i=0;const t=setInterval(()=>{process.stdout.write(Date.now()+'\\n');if(++i>=${lines})clearInterval(t)},1)`;
  const runId = await trigger(stack, 'bench-logs-tail', [process.execPath, '-e', script]);
  const client = new LogServiceClient(stack.grpcAddress, credentials.createInsecure(), { interceptors: [bearerTokenInterceptor(stack.adminToken)] });
  const parent = `workflows/bench-logs-tail/runs/${runId}/tasks/write`;
  const latencies: number[] = [];
  try {
    for (;;) {
      const done = await new Promise<boolean>((resolve) => {
        const stream = client.tailLogs({ parent, attempt: 0, afterSequence: 0 });
        stream.on('data', (response: TailLogsResponse) => {
          const now = Date.now();
          for (const entry of response.entries) if (/^\d{13}$/.test(entry.line)) latencies.push(now - Number(entry.line));
        });
        stream.on('error', () => resolve(false));
        stream.on('end', () => resolve(true));
      });
      if (done) return latencies;
      // NOT_FOUND until the scheduler has created the attempt.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    client.close();
  }
}

export async function logsBench(argv: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const args = parseLogsArgs(argv);
  const repoRoot = path.resolve(__dirname, '..', '..', '..');
  let serverUrl = process.env['BENCH_DATABASE_URL'];
  const postgres = serverUrl ? undefined : await startEmbeddedPostgres();
  serverUrl ??= postgres?.url as string;
  log('starting PostgreSQL, nats-server and the four services (local runtime) ...');
  const stack = await startServiceStack({ repoRoot, serverUrl, onOutput: (service, line) => log(`[${service}] ${line}`) });
  try {
    log(`throughput: a task writing ${args.lines} lines ...`);
    const throughput = await measureThroughput(stack, args.lines, log);
    log(`tail latency: a task writing ${args.tailLines} lines, one per ms, followed live ...`);
    const latencies = await measureTailLatency(stack, args.tailLines);
    if (latencies.length !== args.tailLines) throw new Error(`the tail received ${latencies.length} of ${args.tailLines} lines`);
    return {
      workload: 'logs',
      lines: args.lines,
      seconds: Number(throughput.seconds.toFixed(3)),
      lines_per_s: throughput.linesPerS,
      tail_lines: args.tailLines,
      tail_p50_ms: quantile(latencies, 0.5),
      tail_p99_ms: quantile(latencies, 0.99),
      tail_max_ms: Math.max(...latencies),
    };
  } finally {
    await stack.stop();
    await postgres?.stop();
  }
}
