import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import pino from 'pino';
import { createApiService, createApiToken, type ApiService, type LogReader, type RunCommands } from '@skein/api';
import { createTestScheduler, type TestScheduler } from '@skein/api/testing';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, freePort, type TestDatabase } from '@skein/testing';
import { runCli } from './cli';

const RUN_ID = /^[0-9a-z]{26}$/;

function workflowYaml(name: string, extra: { params?: string; dependsOn?: string } = {}): string {
  return [
    'apiVersion: skein.dev/v1',
    'kind: Workflow',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    ...(extra.params ? ['  params:', extra.params] : []),
    '  tasks:',
    '    - name: extract',
    '      command: ["echo", "extract"]',
    '    - name: load',
    `      dependsOn: [${extra.dependsOn ?? 'extract'}]`,
    '      command: ["echo", "load"]',
    '',
  ].join('\n');
}

describe('skein CLI', () => {
  let db: TestDatabase;
  let pool: Pool;
  let api: ApiService;
  let server: string;
  let dir: string;
  let token: string;
  let manual: TestScheduler;
  let succeeding: TestScheduler;
  let failing: TestScheduler;
  let mode: 'manual' | 'succeed' | 'fail' = 'manual';
  let onRead: (() => void) | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 4 });
    // pool.end() resolves before its clients' sockets close, and the database is then dropped WITH (FORCE):
    // a client terminated in that window emits 'error' on the pool, which must not crash the test.
    pool.on('error', () => undefined);
    await migrate(pool);
    manual = createTestScheduler(pool);
    succeeding = createTestScheduler(pool, { autoFinish: 'succeeded' });
    failing = createTestScheduler(pool, { autoFinish: 'failed' });
    const runs: RunCommands = {
      createRun: (command) => ({ manual, succeed: succeeding, fail: failing })[mode].runs.createRun(command),
      cancelRun: (runId, reason) => manual.runs.cancelRun(runId, reason),
      backfill: (...args) => manual.runs.backfill(...args),
      retryRun: (runId, task) => manual.runs.retryRun(runId, task),
    };
    const logs: LogReader = {
      async readLogs(attemptId, afterSequence, limit) {
        const page = await manual.logs.readLogs(attemptId, afterSequence, limit);
        onRead?.();
        return page;
      },
    };
    api = createApiService({ pool, runs, logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0, reflection: false });
    server = `127.0.0.1:${(await api.start()).grpcPort}`;
    token = (await createApiToken(pool, 'cli-test', 'admin')).secret;
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-cli-'));
  });

  afterAll(async () => {
    await Promise.all([manual.drain(), succeeding.drain(), failing.drain()]);
    await api.stop();
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    mode = 'manual';
    onRead = undefined;
  });

  async function skein(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: { SKEIN_TOKEN: token, ...env } };
    const serverArgs = env['SKEIN_SERVER'] || args.includes('--server') ? [] : ['--server', server];
    const code = await runCli(['node', 'skein', ...serverArgs, ...args], io);
    return { code, out: out.join(''), err: err.join('') };
  }

  function file(name: string, content: string): string {
    const target = path.join(dir, name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  }

  async function trigger(workflow: string, ...args: string[]): Promise<string> {
    const res = await skein(['trigger', workflow, ...args]);
    expect(res).toMatchObject({ code: 0, err: '' });
    return res.out.trim();
  }

  describe('validate', () => {
    it('checks files locally, printing issues as file:line:col: path: message', async () => {
      const good = file('validate/good.yaml', workflowYaml('good'));
      expect(await skein(['validate', '-f', good], { SKEIN_SERVER: '127.0.0.1:1' })).toEqual({
        code: 0, out: `${good}: workflow good is valid (2 tasks)\n`, err: '',
      });
      const bad = file('validate/bad.yaml', workflowYaml('bad', { dependsOn: 'extrct' }));
      const res = await skein(['validate', '-f', bad], { SKEIN_SERVER: '127.0.0.1:1' });
      expect(res.code).toBe(1);
      expect(res.err).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:\\d+: spec\\.tasks\\[1\\]\\.dependsOn\\[0\\]: .*"extrct".*"extract"`, 'm'));
      const json = await skein(['validate', '-o', 'json', '-f', good]);
      expect(JSON.parse(json.out)).toEqual([{ workflowId: 'good', taskCount: 2 }]);
    });

    it('fails on a missing file', async () => {
      const res = await skein(['validate', '-f', path.join(dir, 'nope.yaml')]);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/^skein: cannot read .*nope\.yaml: no such file or directory\n$/);
    });
  });

  describe('apply', () => {
    it('creates, then leaves unchanged, then versions a workflow', async () => {
      const target = file('apply/etl.yaml', workflowYaml('etl'));
      expect(await skein(['apply', '-f', target])).toEqual({ code: 0, out: 'workflow etl: created version 1\n', err: '' });
      expect(await skein(['apply', '-f', target])).toEqual({ code: 0, out: 'workflow etl: unchanged (version 1)\n', err: '' });
      file('apply/etl.yaml', workflowYaml('etl', { params: '    season: {type: string, default: "2026"}\n    limit: {type: integer, default: 10}' }));
      expect((await skein(['apply', '-f', target])).out).toBe('workflow etl: created version 2\n');
    });

    it('applies every workflow file of a directory in name order, and every document of a file', async () => {
      file('dir/b.yml', workflowYaml('dir-b'));
      file('dir/a.json', JSON.stringify({
        apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name: 'dir-a' }, spec: { tasks: [{ name: 't', command: ['true'] }] },
      }));
      file('dir/c.yaml', `${workflowYaml('dir-c1')}---\n${workflowYaml('dir-c2')}`);
      file('dir/notes.txt', 'not a workflow');
      const res = await skein(['apply', '-f', path.join(dir, 'dir')]);
      expect(res).toEqual({
        code: 0,
        out: ['dir-a', 'dir-b', 'dir-c1', 'dir-c2'].map((n) => `workflow ${n}: created version 1\n`).join(''),
        err: '',
      });
    });

    it('applies a directory tree: every file in every subdirectory, TaskTemplates before workflows', async () => {
      file('tree/a-workflow.yaml', [
        'apiVersion: skein.dev/v1', 'kind: Workflow', 'metadata: {name: tree-wf}', 'spec:', '  tasks:',
        '    - {name: t, template: tree-tpl, command: ["echo", "hi"]}', '',
      ].join('\n'));
      file('tree/templates/tpl.yml', ['apiVersion: skein.dev/v1', 'kind: TaskTemplate', 'metadata: {name: tree-tpl}', 'spec: {image: "example.com/sh:1"}', ''].join('\n'));
      file('tree/more/deeper/other.yaml', workflowYaml('tree-deep'));
      file('tree/.hidden/skipped.yaml', 'not: [valid');
      const res = await skein(['apply', '-f', path.join(dir, 'tree')]);
      expect(res).toEqual({
        code: 0,
        out: 'template tree-tpl: created version 1\nworkflow tree-wf: created version 1\nworkflow tree-deep: created version 1\n',
        err: '',
      });
    });

    it('names the file and line of an issue in a subdirectory', async () => {
      const bad = file('tree-bad/nested/bad.yaml', workflowYaml('tree-bad', { dependsOn: 'nope' }));
      const res = await skein(['apply', '-f', path.join(dir, 'tree-bad')]);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:\\d+: spec\\.tasks\\[1\\]\\.dependsOn\\[0\\]: `));
    });

    it('prints the issues of an invalid file with their lines in the file, applies the rest, exits 1', async () => {
      const multi = file('invalid/multi.yaml', `${workflowYaml('fine')}---\n${workflowYaml('broken', { dependsOn: 'nope' })}`);
      const res = await skein(['apply', '-f', multi]);
      expect(res.code).toBe(1);
      expect(res.out).toBe('workflow fine: created version 1\n');
      // The second document starts on line 13 (after `---` on line 12): its dependsOn is on line 22.
      expect(res.err).toMatch(new RegExp(`^${multi.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:22:\\d+: spec\\.tasks\\[1\\]\\.dependsOn\\[0\\]: `));
      expect(res.err).not.toMatch(/at .*\.ts:\d+/);
    });

    it('prints the responses as proto3 JSON', async () => {
      const res = await skein(['-o', 'json', 'apply', '-f', file('json/wf.yaml', workflowYaml('json-wf'))]);
      const body = JSON.parse(res.out) as { workflow: { name: string }; version: { version: number }; created: boolean }[];
      expect(body).toHaveLength(1);
      expect(body[0]).toMatchObject({ workflow: { name: 'workflows/json-wf', currentVersion: 1 }, version: { version: 1 }, created: true });
    });
  });

  describe('pools', () => {
    it('applies pools before the workflows that name them, then lists, shows and deletes them', async () => {
      file('pools/etl.yaml', workflowYaml('pooled').replace('      command: ["echo", "extract"]', '      command: ["echo", "extract"]\n      pool: warehouse'));
      file('pools/warehouse.yaml', 'apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: warehouse}\nspec: {slots: 4, description: four connections}\n');
      // etl.yaml sorts before warehouse.yaml: the pool is applied first all the same.
      expect(await skein(['apply', '-f', path.join(dir, 'pools')])).toEqual({
        code: 0, out: 'pool warehouse: created (4 slots)\nworkflow pooled: created version 1\n', err: '',
      });
      const list = await skein(['pools', 'list']);
      expect(list.out.split('\n').slice(0, 2).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([['NAME', 'SLOTS', 'USED', 'WAITING'], ['warehouse', '4', '0', '0']]);
      const got = await skein(['pools', 'get', 'warehouse']);
      expect(got.out).toMatch(/^Name: +pools\/warehouse\nSlots: +4\nUsed: +0\nWaiting: +0 tasks\nDescription: +four connections\n/);
      const inUse = await skein(['pools', 'delete', 'warehouse']);
      expect(inUse.code).not.toBe(0);
      expect(inUse.err).toContain('named by workflow pooled');
      const unknownPool = file('pools-bad/w.yaml', workflowYaml('bad-pool').replace('      command: ["echo", "load"]', '      command: ["echo", "load"]\n      pool: warehose'));
      const bad = await skein(['apply', '-f', unknownPool]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('spec.tasks[1].pool: unknown pool "warehose" (did you mean "warehouse"?)');
      file('pools-bad/p.yaml', 'apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: spare}\nspec: {slots: 1}\n');
      await skein(['apply', '-f', path.join(dir, 'pools-bad', 'p.yaml')]);
      expect(await skein(['pools', 'delete', 'spare'])).toEqual({ code: 0, out: 'pool spare deleted\n', err: '' });
      expect(JSON.parse((await skein(['-o', 'json', 'pools', 'list'])).out)).toEqual({ pools: [expect.objectContaining({ name: 'pools/warehouse', slots: 4 })] });
    });
  });

  describe('workflows', () => {
    it('lists workflows as a table and as JSON', async () => {
      const table = await skein(['workflows', 'list']);
      expect(table.code).toBe(0);
      const lines = table.out.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+VERSION\s+TASKS\s+SCHEDULE\s+PAUSED\s+UPDATED$/);
      expect(lines.find((l) => l.startsWith('etl '))).toMatch(/^etl\s+2\s+2\s+-\s+no\s+\d+s$/);
      const json = JSON.parse((await skein(['workflows', 'list', '-o', 'json'])).out) as { workflows: { workflowId: string }[] };
      expect(json.workflows.map((w) => w.workflowId)).toEqual(expect.arrayContaining(['etl', 'dir-a', 'dir-c2']));
    });

    it('shows one workflow', async () => {
      const res = await skein(['workflows', 'get', 'etl']);
      expect(res.out).toMatch(/^Name:\s+workflows\/etl$/m);
      expect(res.out).toMatch(/^load\s+extract$/m);
      const missing = await skein(['workflows', 'get', 'nope']);
      expect(missing).toEqual({ code: 1, out: '', err: 'skein: workflow workflows/nope not found\n' });
    });
  });

  describe('trigger and runs', () => {
    it('prints the new run id; params are converted to their declared types', async () => {
      const runId = await trigger('etl', '--param', 'season=2025', '-p', 'limit=3');
      expect(runId).toMatch(RUN_ID);
      const json = JSON.parse((await skein(['runs', 'get', runId, '-o', 'json'])).out) as Record<string, unknown>;
      expect(json).toMatchObject({ runId, workflow: 'etl', state: 'RUN_STATE_QUEUED', trigger: 'manual', params: { season: '2025', limit: 3 } });
    });

    it('reports bad params with one line per field', async () => {
      const res = await skein(['trigger', 'etl', '--param', 'limit=many', '--param', 'sesaon=1']);
      expect(res.code).toBe(1);
      expect(res.out).toBe('');
      expect(res.err).toMatch(/^skein: invalid params for workflows\/etl\n/);
      expect(res.err).toMatch(/^ {2}params\.limit: must be an integer, got the string "many"$/m);
      expect(res.err).toMatch(/^ {2}params\.sesaon: unknown param \(did you mean "season"\?\)$/m);
      expect((await skein(['trigger', 'etl', '--param', 'novalue'])).err).toBe('skein: --param "novalue": expected NAME=VALUE\n');
    });

    it('says when the workflow does not exist', async () => {
      expect(await skein(['trigger', 'nope'])).toEqual({ code: 1, out: '', err: 'skein: workflow workflows/nope not found\n' });
    });

    it('waits for a run to succeed and exits 0', async () => {
      mode = 'succeed';
      const res = await skein(['trigger', 'dir-b', '--wait']);
      expect(res.err).toBe('');
      expect(res.code).toBe(0);
      const [runId] = res.out.split('\n');
      expect(runId).toMatch(RUN_ID);
      expect(res.out).toMatch(/^State:\s+succeeded$/m);
      expect(res.out).toMatch(/^TASK\s+STATE\s+ATTEMPTS\s+EXIT\s+DURATION\s+DEPENDS ON$/m);
      expect(res.out).toMatch(/^load\s+succeeded\s+1\s+0\s+\S+\s+extract$/m);
    });

    it('waits for a run to fail and exits 1, as JSON too', async () => {
      mode = 'fail';
      const res = await skein(['trigger', 'dir-b', '--wait', '-o', 'json']);
      expect(res.code).toBe(1);
      expect(JSON.parse(res.out)).toMatchObject({ workflow: 'dir-b', state: 'RUN_STATE_FAILED', reason: 'a task failed' });
    });

    it('lists runs newest first, of one workflow or all', async () => {
      const first = await trigger('dir-a');
      const second = await trigger('dir-a');
      const res = await skein(['runs', 'list', '--workflow', 'dir-a']);
      const lines = res.out.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^RUN\s+WORKFLOW\s+VERSION\s+STATE\s+TRIGGER\s+CREATED\s+DURATION$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([second, first]);
      expect(lines[1]).toMatch(new RegExp(`^${second}\\s+dir-a\\s+1\\s+queued\\s+manual\\s+\\d+s\\s+-$`));
      const limited = JSON.parse((await skein(['runs', 'list', '--limit', '1', '-o', 'json'])).out) as { runs: { runId: string }[] };
      expect(limited.runs.map((r) => r.runId)).toEqual([second]);
      expect((await skein(['runs', 'list', '--workflow', 'nope'])).err).toBe('skein: workflow workflows/nope not found\n');
    });

    it('gets a run by id or by full name', async () => {
      const runId = await trigger('dir-a');
      const byId = await skein(['runs', 'get', runId]);
      expect(byId.code).toBe(0);
      expect(byId.out).toMatch(new RegExp(`^Name:\\s+workflows/dir-a/runs/${runId}$`, 'm'));
      expect(byId.out).toMatch(/^State:\s+queued$/m);
      expect((await skein(['runs', 'get', `workflows/dir-a/runs/${runId}`])).out).toBe(byId.out);
      expect(await skein(['runs', 'get', `workflows/etl/runs/${runId}`])).toMatchObject({ code: 1, err: `skein: run workflows/etl/runs/${runId} not found\n` });
      expect((await skein(['runs', 'get', 'a/b'])).err).toMatch(/^skein: "a\/b" is not a run/);
    });
  });

  describe('tasks and logs', () => {
    it('shows the tasks of a run', async () => {
      const runId = await trigger('dir-a');
      await manual.startTask(runId, 't');
      await manual.finishTask(runId, 't', { state: 'failed', exitCode: 2, retry: true });
      const res = await skein(['tasks', runId]);
      expect(res.out).toMatch(/^TASK\s+STATE\s+ATTEMPTS\s+EXIT\s+DURATION\s+DEPENDS ON\nt\s+queued\s+2\s+-\s+\S+\s+-\n$/);
      const json = JSON.parse((await skein(['tasks', runId, '-o', 'json'])).out) as { taskRuns: { state: string; attempts: { exitCode?: number }[] }[] };
      expect(json.taskRuns[0]).toMatchObject({ state: 'TASK_RUN_STATE_QUEUED', attempts: [{ exitCode: 2 }, {}] });
    });

    it('prints every line of a log through all pages', async () => {
      const runId = await trigger('dir-a');
      await manual.startTask(runId, 't');
      const lines = Array.from({ length: 1500 }, (_, i) => `line ${i + 1}`);
      await manual.writeLogs(runId, 't', lines, { final: true });
      await manual.finishTask(runId, 't', { state: 'succeeded' });
      const res = await skein(['logs', runId, 't']);
      expect(res).toEqual({ code: 0, out: `${lines.join('\n')}\n`, err: '' });
      const json = JSON.parse((await skein(['logs', runId, 't', '--attempt', '1', '-o', 'json'])).out) as { entries: unknown[]; complete: boolean; attempt: number };
      expect(json).toMatchObject({ attempt: 1, complete: true });
      expect(json.entries).toHaveLength(1500);
    });

    it("waits briefly for a finished attempt's last lines", async () => {
      const runId = await trigger('dir-a');
      await manual.startTask(runId, 't');
      await manual.writeLogs(runId, 't', ['started']);
      await manual.finishTask(runId, 't', { state: 'succeeded' });
      // The rest of the log arrives only after the CLI has read the first part.
      let late: Promise<void> | undefined;
      onRead = () => {
        onRead = undefined;
        late = manual.writeLogs(runId, 't', ['finished'], { final: true });
      };
      const res = await skein(['logs', runId, 't']);
      await late;
      expect(res).toEqual({ code: 0, out: 'started\nfinished\n', err: '' });
    });

    it('prints nothing for a task not started, and an error for an unknown task', async () => {
      const runId = await trigger('etl');
      expect(await skein(['logs', runId, 'load'])).toEqual({ code: 0, out: '', err: '' });
      expect(await skein(['logs', runId, 'nope'])).toMatchObject({ code: 1, err: `skein: task workflows/etl/runs/${runId}/tasks/nope not found\n` });
    });
  });

  describe('errors and options', () => {
    it('says when the server cannot be reached', async () => {
      const address = `127.0.0.1:${await freePort()}`;
      const res = await skein(['workflows', 'list', '--server', address]);
      expect(res).toEqual({ code: 1, out: '', err: `skein: cannot reach Skein at ${address} (is \`skein standalone\` running?)\n` });
      const viaEnv = await skein(['runs', 'list'], { SKEIN_SERVER: address });
      expect(viaEnv.err).toBe(`skein: cannot reach Skein at ${address} (is \`skein standalone\` running?)\n`);
    });

    it('says when no API token was given, and reports a role that may not', async () => {
      const nowhere = path.join(dir, 'no-standalone-here');
      const res = await skein(['workflows', 'list'], { SKEIN_TOKEN: '', SKEIN_DATA_DIR: nowhere });
      expect(res).toEqual({
        code: 1, out: '',
        err: `skein: Skein at ${server} needs an API token: pass --token or set SKEIN_TOKEN (a local \`skein standalone\` writes one to .skein/admin-token)\n`,
      });
      const invalid = await skein(['workflows', 'list', '--token', 'skn_wrong'], { SKEIN_DATA_DIR: nowhere });
      expect(invalid.err).toBe('skein: the API token is not valid: it is malformed, unknown or revoked\n');
      // A local standalone's token file is used when nothing else is given.
      mkdirSync(nowhere, { recursive: true });
      writeFileSync(path.join(nowhere, 'admin-token'), `${token}\n`);
      expect((await skein(['workflows', 'list'], { SKEIN_TOKEN: '', SKEIN_DATA_DIR: nowhere })).code).toBe(0);
    });

    it('creates, lists and revokes tokens, and shows the audit log', async () => {
      const created = await skein(['tokens', 'create', '--name', 'ci-reader', '--role', 'viewer']);
      expect(created.code).toBe(0);
      const secret = created.out.trim();
      expect(secret).toMatch(/^skn_[A-Za-z0-9_-]{43}$/);
      expect(created.err).toMatch(/^created token [0-9a-z]{26} \(ci-reader, viewer\); its secret is shown only now:\n$/);
      const id = /created token ([0-9a-z]{26})/.exec(created.err)?.[1] ?? '';

      expect((await skein(['workflows', 'list', '--token', secret])).code).toBe(0);
      const denied = await skein(['trigger', 'etl', '--token', secret]);
      expect(denied).toMatchObject({ code: 1, err: 'skein: skein.v1.RunService/TriggerRun needs the operator role; token ci-reader has viewer\n' });

      const listed = await skein(['tokens', 'list']);
      expect(listed.out).toMatch(new RegExp(`${id}\\s+ci-reader\\s+viewer\\s+${secret.slice(0, 8)}…`));
      expect(listed.out).not.toContain(secret);
      expect(await skein(['tokens', 'revoke', id])).toEqual({ code: 0, out: `token ${id} (ci-reader) revoked\n`, err: '' });
      expect((await skein(['workflows', 'list', '--token', secret])).code).toBe(1);
      expect((await skein(['tokens', 'list'])).out).not.toContain(id);
      expect((await skein(['tokens', 'list', '--all', '-o', 'json'])).out).toContain(id);
      expect(await skein(['tokens', 'revoke', 'nope'])).toMatchObject({ code: 1, err: 'skein: "nope" is not a token id (see `skein tokens list`)\n' });

      const audit = JSON.parse((await skein(['audit', '-o', 'json', '--limit', '10'])).out) as { auditEvents: Array<Record<string, string>> };
      expect(audit.auditEvents.map((e) => [e['tokenDisplayName'], e['method'], e['outcome']])).toEqual(expect.arrayContaining([
        ['cli-test', 'skein.v1.TokenService/RevokeToken', 'OK'],
        ['ci-reader', 'skein.v1.RunService/TriggerRun', 'PERMISSION_DENIED'],
        ['cli-test', 'skein.v1.TokenService/CreateToken', 'OK'],
      ]));
      const table = (await skein(['audit', '--limit', '3'])).out;
      expect(table).toMatch(/TokenService\/RevokeToken\s+tokens\/[0-9a-z]{26}\s+OK\s+grpc/);
    });

    it('reports usage errors without a stack trace', async () => {
      const unknown = await skein(['frobnicate']);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toMatch(/^skein: unknown command 'frobnicate'/);
      const badOutput = await skein(['-o', 'yaml', 'workflows', 'list']);
      expect(badOutput.code).toBe(1);
      expect(badOutput.err).toMatch(/^skein: option '-o, --output <format>' argument 'yaml' is invalid/);
      expect((await skein(['apply'])).err).toMatch(/^skein: required option '-f, --filename <path>' not specified/);
      const help = await skein(['--help']);
      expect(help.code).toBe(0);
      expect(help.out).toMatch(/Usage: skein/);
      expect(help.out).toMatch(/standalone/);
    });
  });
});
