import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startServiceStack, type ServiceStack } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const LINES = 1_000_000;
const SECRET = 'hunter2-very-secret';

interface Entry { sequence: number; stream: string; line: string }

/**
 * The whole log path as deployed: executor and log-collector as separate processes on NATS and
 * PostgreSQL, the collector killed with SIGKILL mid-stream and restarted.
 */
describe('task logs through NATS and PostgreSQL, four processes', () => {
  let stack: ServiceStack;
  let dir: string;
  const output: string[] = [];

  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${stack.httpUrl}${route}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const apply = (name: string, script: string) => api('POST', '/v1/workflows:apply', {
    fileName: `${name}.yaml`,
    source: [
      'apiVersion: skein.dev/v1', 'kind: Workflow', 'metadata:', `  name: ${name}`, 'spec:', '  tasks:',
      '    - name: write', `      command: ["sh", "-c", ${JSON.stringify(script)}]`,
      '      env:', `        - {name: API_TOKEN, value: ${JSON.stringify(SECRET)}, secret: true}`, '',
    ].join('\n'),
  });

  const trigger = async (name: string) => (await api<{ run: { runId: string } }>('POST', `/v1/workflows/${name}/runs`, {})).run.runId;

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A service restarting answers UNAVAILABLE for a moment: that is "not yet".
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms\n${output.slice(-30).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet'], { stdio: 'inherit' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-logs-e2e-'));
    stack = await startServiceStack({
      repoRoot,
      serverUrl: process.env['SKEIN_TEST_DATABASE_URL'] as string,
      onOutput: (service, line) => output.push(`[${service}] ${line}`),
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`stores ${LINES} lines in order exactly once although the collector is killed mid-stream, and never a secret`, async () => {
    const gate = path.join(dir, 'half');
    // Half the lines, a pause until the test has killed and restarted the collector, then the rest.
    await apply('many-lines', `echo "token=$API_TOKEN"; seq 1 ${LINES / 2}; while [ ! -f '${gate}' ]; do sleep 0.05; done; `
      + `seq ${LINES / 2 + 1} ${LINES}; echo "again $API_TOKEN" >&2`);
    const runId = await trigger('many-lines');
    const logsRoute = `/v1/workflows/many-lines/runs/${runId}/tasks/write/logs`;
    // Kill the collector while it is storing: some lines stored, not all.
    await waitFor('first lines stored', async () => {
      const page = await api<{ entries?: Entry[] }>('GET', `${logsRoute}?pageSize=1`);
      return (page.entries?.length ?? 0) > 0 ? true : undefined;
    });
    await stack.kill('log-collector', 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stack.restart('log-collector');
    writeFileSync(gate, '');

    const run = await waitFor('run ended', async () => {
      const res = await api<{ run: { state: string } }>('GET', `/v1/workflows/many-lines/runs/${runId}`);
      return /SUCCEEDED|FAILED|CANCELLED/.test(res.run.state) ? res.run : undefined;
    });
    expect(run.state).toBe('RUN_STATE_SUCCEEDED');

    const complete = await waitFor('log complete', async () => {
      const page = await api<{ entries?: Entry[]; complete?: boolean }>('GET', `${logsRoute}?pageSize=5&afterSequence=${LINES - 2}`);
      return page.complete ? page.entries ?? [] : undefined;
    });
    // Sequence k + 2 holds the number k (after Skein's start line and the token line), then the stderr line.
    expect(complete.map((e) => e.line)).toEqual([String(LINES - 3), String(LINES - 2), String(LINES - 1), String(LINES), 'again ***']);
    const first = await api<{ entries?: Entry[] }>('GET', `${logsRoute}?pageSize=3`);
    expect(first.entries?.map((e) => [e.sequence, e.stream, e.line])).toEqual([
      [1, 'LOG_STREAM_SYSTEM', expect.stringMatching(/^attempt 1 started on executor /)],
      [2, 'LOG_STREAM_STDOUT', 'token=***'],
      [3, 'LOG_STREAM_STDOUT', '1'],
    ]);

    // Every line exactly once, in order: sequences 1..final without a gap, and the k-th number at sequence k + 2.
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ lines: string; max_seq: string; final_count: string; numbers: string; in_place: string; leaked: string; stderr: string }>(
        `SELECT count(*) AS lines, max(l.seq) AS max_seq, max(a.final_count) AS final_count,
                count(*) FILTER (WHERE l.stream = 1 AND l.text ~ '^[0-9]+$') AS numbers,
                count(*) FILTER (WHERE l.stream = 1 AND l.text ~ '^[0-9]+$' AND l.text::bigint = l.seq - 2) AS in_place,
                count(*) FILTER (WHERE strpos(l.text, $1) > 0) AS leaked,
                string_agg(l.text, '|') FILTER (WHERE l.stream = 2) AS stderr
           FROM log_lines l JOIN log_attempts a USING (attempt_id)
          WHERE l.attempt_id = (SELECT id FROM attempts WHERE run_id = $2)`, [SECRET, runId]);
      const row = rows[0]!;
      expect(row.lines).toBe(row.final_count);
      expect(row.max_seq).toBe(row.final_count);
      expect(row).toMatchObject({ numbers: String(LINES), in_place: String(LINES), leaked: '0', stderr: 'again ***' });
    } finally {
      await db.end();
    }
  }, 300_000);

  it('follows a running task over Server-Sent Events and ends with it', async () => {
    const gate = path.join(dir, 'follow');
    await apply('followed', `echo first; while [ ! -f '${gate}' ]; do sleep 0.05; done; echo last`);
    const runId = await trigger('followed');
    const route = `/v1/workflows/followed/runs/${runId}/tasks/write/logs:follow`;
    const res = await waitFor('the attempt exists', async () => {
      const r = await fetch(`${stack.httpUrl}${route}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
      if (r.status === 404) {
        await r.body?.cancel();
        return undefined;
      }
      return r;
    });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let sawFirstWhileRunning = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (!sawFirstWhileRunning && text.includes('"line":"first"')) {
        sawFirstWhileRunning = !existsSync(gate);
        writeFileSync(gate, '');
      }
    }
    expect({ sawFirstWhileRunning, text }).toMatchObject({ sawFirstWhileRunning: true });
    expect(text).toContain('"line":"last"');
    expect(text).toMatch(/event: end\ndata: \{"attempt":1,"complete":true\}\n\n$/);
  }, 120_000);
});
