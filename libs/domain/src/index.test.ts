/**
 * The public surface, and the promise that @skein/domain does no I/O: loading it must not load any
 * I/O module (each is replaced by one that fails on load).
 */
import * as domain from './index';

const IO_MODULES = [
  'pg',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'express',
  'pino',
  '@kubernetes/client-node',
  'node:fs',
  'fs',
  'node:fs/promises',
  'node:child_process',
  'child_process',
  'node:net',
  'net',
];

describe('@skein/domain', () => {
  it('loads without any I/O module', () => {
    jest.isolateModules(() => {
      for (const name of IO_MODULES) {
        jest.doMock(
          name,
          () => {
            throw new Error(`@skein/domain must not import ${name}`);
          },
          { virtual: true },
        );
      }
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const isolated = require('./index') as Record<string, unknown>;
        expect(typeof isolated['parseWorkflowFile']).toBe('function');
      } finally {
        for (const name of IO_MODULES) jest.dontMock(name);
      }
    });
  });

  it('exports the documented API', () => {
    const functions = [
      'parseWorkflowFile', 'workflowDigest', 'formatIssue', 'compareIssues', 'canonicalJson',
      'renderTaskTemplates', 'renderTemplate', 'referencedTasks',
      'resolveParams', 'coerceParamValue',
      'topologicalOrder', 'findCycles', 'downstreamOf', 'rootTasks', 'upstreamClosure', 'upstreamClosures',
      'isTerminalTaskState', 'isTerminalRunState', 'isTerminalAttemptState', 'isTaskRunState', 'isRunState', 'isAttemptState', 'deriveRunState',
      'evaluateTriggerRule', 'isTriggerRule',
      'retryDelayFor', 'hasRetriesLeft',
      'isValidTimeZone', 'scheduleProblem', 'nextScheduleTime', 'latestScheduleTime', 'scheduleTimesBetween',
      'parseDuration', 'formatDuration',
      'newId', 'isId', 'idTime', 'createIdGenerator', 'isDnsLabel', 'closestMatch', 'didYouMean',
      'WorkflowValidationError', 'TemplateError', 'DurationError', 'WorkflowCycleError', 'ParamsInvalidError', 'ScheduleError',
    ];
    for (const name of functions) expect([name, typeof (domain as Record<string, unknown>)[name]]).toEqual([name, 'function']);
    expect(domain.API_VERSION).toBe('skein.dev/v1');
    expect(domain.DEFAULT_TRIGGER_RULE).toBe('allSuccess');
  });
});
