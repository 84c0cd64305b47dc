import { status } from '@grpc/grpc-js';
import { ApiError } from './errors';
import { checkTokenScope, decodePageToken, encodePageToken, LIST_PAGE, LOG_PAGE, logCursor, pageSize, workflowCursor } from './pagination';
import { parseRunName, parseTaskRunName, parseWorkflowName } from './resource-names';

function violation(fn: () => unknown): { field: string; code: number } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { field: err.fieldViolations[0]?.field ?? '', code: err.code };
    throw err;
  }
  throw new Error('no error');
}

describe('resource names', () => {
  it('parses well-formed names', () => {
    expect(parseWorkflowName('workflows/sports-etl', 'name')).toEqual({ workflowId: 'sports-etl' });
    expect(parseWorkflowName('workflows/-', 'parent', { allowAny: true })).toEqual({ workflowId: '-' });
    expect(parseRunName('workflows/etl/runs/01hx', 'name')).toEqual({ workflowId: 'etl', runId: '01hx' });
    expect(parseRunName('workflows/-/runs/01hx', 'name')).toEqual({ workflowId: '-', runId: '01hx' });
    expect(parseTaskRunName('workflows/etl/runs/01hx/tasks/load', 'parent')).toEqual({ workflowId: 'etl', runId: '01hx', task: 'load' });
  });

  it.each([
    ['', 'name'], ['workflows', 'name'], ['workflows/', 'name'], ['workflows/-', 'name'], ['workflow/etl', 'name'],
    ['workflows/etl/', 'name'], ['/workflows/etl', 'name'], ['workflows/e tl', 'name'], ['workflows/../x', 'name'],
  ])('rejects workflow name %j as INVALID_ARGUMENT on %s', (value, field) => {
    expect(violation(() => parseWorkflowName(value, field))).toEqual({ field, code: status.INVALID_ARGUMENT });
  });

  it.each(['workflows/etl/runs/', 'workflows/etl/runs/-', 'workflows/etl/run/x', 'workflows/etl/runs/x/tasks/y', 'x/etl/runs/y'])(
    'rejects run name %j', (value) => {
      expect(violation(() => parseRunName(value, 'name'))).toEqual({ field: 'name', code: status.INVALID_ARGUMENT });
    });

  it.each(['workflows/etl/runs/r/tasks/', 'workflows/etl/runs/r/task/t', 'workflows/etl/runs/r', 'workflows/etl/runs/r/tasks/t/logs'])(
    'rejects task run name %j', (value) => {
      expect(violation(() => parseTaskRunName(value, 'parent'))).toEqual({ field: 'parent', code: status.INVALID_ARGUMENT });
    });
});

describe('pagination', () => {
  it('defaults and bounds page sizes', () => {
    expect(pageSize(0, LIST_PAGE)).toBe(50);
    expect(pageSize(0, LOG_PAGE)).toBe(1000);
    expect(pageSize(1000, LIST_PAGE)).toBe(1000);
    expect(pageSize(10000, LOG_PAGE)).toBe(10000);
    // AIP-158: above the maximum is coerced to the maximum.
    expect(pageSize(1001, LIST_PAGE)).toBe(1000);
    expect(pageSize(2 ** 31 - 1, LOG_PAGE)).toBe(10000);
    expect(violation(() => pageSize(-1, LIST_PAGE)).field).toBe('page_size');
  });

  it('round-trips cursors and rejects anything else', () => {
    const token = encodePageToken({ k: 'workflows', after: 'etl' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, workflowCursor)).toEqual({ k: 'workflows', after: 'etl' });
    expect(decodePageToken('', workflowCursor)).toBeUndefined();
    for (const bad of ['%%%', 'bm90IGpzb24', token.slice(0, -2), encodePageToken({ k: 'workflows', after: 'x', extra: 1 })]) {
      expect(violation(() => decodePageToken(bad, workflowCursor)).field).toBe('page_token');
    }
    // A token of one method is not a token of another.
    expect(violation(() => decodePageToken(token, logCursor)).field).toBe('page_token');
    expect(violation(() => checkTokenScope('workflows/a', 'workflows/b')).field).toBe('page_token');
  });
});
