import { DurationError, ParamsInvalidError, TemplateError, WorkflowCycleError, WorkflowValidationError } from './errors';
import { compareIssues, formatIssue, type ValidationIssue } from './issues';

const issue: ValidationIssue = {
  file: 'file.yaml',
  line: 12,
  column: 7,
  path: 'spec.tasks[2].dependsOn[0]',
  message: 'unknown task "extrct" (did you mean "extract"?)',
};

describe('formatIssue', () => {
  it('formats file:line:column: path: message', () => {
    expect(formatIssue(issue)).toBe('file.yaml:12:7: spec.tasks[2].dependsOn[0]: unknown task "extrct" (did you mean "extract"?)');
  });
  it('omits an empty path', () => {
    expect(formatIssue({ ...issue, path: '', message: 'bad' })).toBe('file.yaml:12:7: bad');
  });
  it('orders issues by position', () => {
    const a = { ...issue, line: 3 };
    const b = { ...issue, line: 3, column: 9 };
    const c = { ...issue, line: 1 };
    expect([a, b, c].sort(compareIssues)).toEqual([c, a, b]);
  });
});

describe('WorkflowValidationError', () => {
  it('carries every issue and joins them in its message', () => {
    const second = { ...issue, line: 14, path: 'metadata.name', message: 'missing' };
    const err = new WorkflowValidationError([issue, second], { cause: 'x' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('WorkflowValidationError');
    expect(err.code).toBe('WORKFLOW_INVALID');
    expect(err.issues).toHaveLength(2);
    expect(err.message).toBe(`${formatIssue(issue)}\n${formatIssue(second)}`);
    expect(err.cause).toBe('x');
  });
});

describe('other errors', () => {
  it('have names and codes', () => {
    const t = new TemplateError('no value', '{{ params.x }}');
    expect([t.name, t.code, t.template]).toEqual(['TemplateError', 'TEMPLATE_RENDER_FAILED', '{{ params.x }}']);
    const d = new DurationError('bad');
    expect([d.name, d.code]).toEqual(['DurationError', 'DURATION_INVALID']);
    const c = new WorkflowCycleError([['a', 'b']]);
    expect([c.name, c.code, c.message]).toEqual(['WorkflowCycleError', 'WORKFLOW_CYCLE', 'cycle: a -> b -> a']);
    const p = new ParamsInvalidError([{ param: 'n', message: 'must be an integer' }]);
    expect([p.name, p.code, p.message]).toEqual(['ParamsInvalidError', 'PARAMS_INVALID', 'param "n": must be an integer']);
  });
});
