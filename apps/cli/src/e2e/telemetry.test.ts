import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { createInProcessBus, type Bus } from '@skein/bus';
import { parseWorkflowFile } from '@skein/domain';
import { applyWorkflow, getRun, listRunAttempts } from '@skein/store';
import { attemptTraceparent, runTraceId, startTelemetry, type Telemetry } from '@skein/telemetry';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createApiToken } from '@skein/api';
import { startSkein, type RunningSkein } from '../standalone/start-skein';

describe('telemetry', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let db: TestDatabase;
  let bus: Bus;
  let skein: RunningSkein;

  beforeAll(async () => {
    telemetry = await startTelemetry({ serviceName: 'skein-test', exporter });
    db = await createTestDatabase();
    bus = createInProcessBus();
    skein = await startSkein({ databaseUrl: db.url, bus, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0 });
  });

  afterAll(async () => {
    await skein.stop();
    await bus.close();
    await telemetry.shutdown();
    await db.drop();
  });

  it('records a run span and one attempt span per task, and hands the trace context to the task', async () => {
    const parsed = parseWorkflowFile(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: traced}
spec:
  tasks:
    - name: first
      command: ["sh", "-c", "echo \\"{\\\\\\"traceparent\\\\\\": \\\\\\"$TRACEPARENT\\\\\\"}\\" > $SKEIN_OUTPUT_PATH"]
    - {name: second, command: ["true"], dependsOn: [first]}
`, 'traced.yaml');
    expect(parsed.errors).toEqual([]);
    const w = parsed.workflows[0];
    if (!w) throw new Error('no workflow parsed');
    await applyWorkflow(skein.pool, w.spec, w.digest);
    const { runId } = await skein.scheduler.createRun({ workflowId: 'traced', params: {}, trigger: 'manual' });
    let state = '';
    for (let i = 0; i < 500 && !['succeeded', 'failed'].includes(state); i++) {
      state = (await getRun(skein.pool, runId))?.state ?? '';
      if (!['succeeded', 'failed'].includes(state)) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(state).toBe('succeeded');
    await telemetry.forceFlush();

    const traceId = runTraceId(runId);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const runSpan = spans.find((s) => s.name === 'run traced');
    const attemptSpans = spans.filter((s) => s.name.startsWith('attempt '));
    expect(runSpan).toBeDefined();
    expect(attemptSpans.map((s) => s.name).sort()).toEqual(['attempt first#1', 'attempt second#1']);
    for (const span of attemptSpans) expect(span.parentSpanContext?.spanId).toBe(runSpan?.spanContext().spanId);
    expect(runSpan?.attributes['skein.run.state']).toBe('succeeded');

    const attempts = await listRunAttempts(skein.pool, runId);
    const first = attempts.find((a) => a.task === 'first');
    expect(first?.outputs).toEqual({ traceparent: attemptTraceparent(runId, first?.id ?? '') });
    const firstSpan = attemptSpans.find((s) => s.name === 'attempt first#1');
    expect(first?.outputs?.['traceparent']).toContain(firstSpan?.spanContext().spanId);
  });

  it('links a run to the trace of the API call that triggered it', async () => {
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await fetch(`http://127.0.0.1:${skein.httpPort}/v1/workflows/traced/runs`, {
      method: 'POST', headers: { 'content-type': 'application/json', traceparent: caller, authorization: `Bearer ${(await createApiToken(skein.pool, 'telemetry-test', 'operator')).secret}` }, body: '{}',
    });
    expect(res.status).toBe(200);
    const { run } = (await res.json()) as { run: { runId: string } };
    for (let i = 0; i < 500; i++) {
      const r = await getRun(skein.pool, run.runId);
      if (r?.state === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await telemetry.forceFlush();
    const runSpan = exporter.getFinishedSpans().find((s) => s.spanContext().traceId === runTraceId(run.runId) && s.name === 'run traced');
    expect(runSpan?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7']]);
  });

  it('records a retried run\'s second end as a span of the retry, under the run\'s span (no span id twice)', async () => {
    const flag = path.join(mkdtempSync(path.join(os.tmpdir(), 'skein-retry-span-')), 'fixed');
    const parsed = parseWorkflowFile(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: retried-span}
spec:
  tasks:
    - {name: flaky, command: ["test", "-f", "${flag}"]}
`, 'retried.yaml');
    const w = parsed.workflows[0];
    if (!w) throw new Error('no workflow parsed');
    await applyWorkflow(skein.pool, w.spec, w.digest);
    const waitFor = async (runId: string, states: string[]) => {
      for (let i = 0; i < 500; i++) {
        const state = (await getRun(skein.pool, runId))?.state ?? '';
        if (states.includes(state)) return state;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`run ${runId} did not reach ${states.join('/')}`);
    };
    const { runId } = await skein.scheduler.createRun({ workflowId: 'retried-span', params: {}, trigger: 'manual' });
    expect(await waitFor(runId, ['succeeded', 'failed'])).toBe('failed');
    writeFileSync(flag, '');
    await skein.scheduler.retryRun(runId);
    expect(await waitFor(runId, ['succeeded'])).toBe('succeeded');
    expect((await getRun(skein.pool, runId))?.retries).toBe(1);
    await telemetry.forceFlush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === runTraceId(runId));
    const ids = spans.map((s) => s.spanContext().spanId);
    expect(new Set(ids).size).toBe(ids.length);
    const root = spans.filter((s) => s.name === 'run retried-span');
    const retry = spans.filter((s) => s.name === 'run retried-span (retry 1)');
    expect(root).toHaveLength(1);
    expect(root[0]?.attributes['skein.run.state']).toBe('failed');
    expect(retry).toHaveLength(1);
    expect(retry[0]?.parentSpanContext?.spanId).toBe(root[0]?.spanContext().spanId);
    expect(retry[0]?.attributes['skein.run.state']).toBe('succeeded');
    expect(spans.filter((s) => s.name.startsWith('attempt flaky#')).map((s) => s.name).sort()).toEqual(['attempt flaky#1', 'attempt flaky#2']);
  });
});
