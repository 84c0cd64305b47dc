import { parseWorkflowFilter } from './workflow-filter';

describe('parseWorkflowFilter (ListWorkflows, AIP-160 subset)', () => {
  it('reads every supported comparison, joined by AND', () => {
    expect(parseWorkflowFilter('labels.team = "data" AND labels.tier != "gold" AND labels.owner:* AND paused = false AND scheduled = true AND workflow_id != "etl"')).toEqual({
      terms: [
        { kind: 'label', key: 'team', op: '=', value: 'data' },
        { kind: 'label', key: 'tier', op: '!=', value: 'gold' },
        { kind: 'hasLabel', key: 'owner' },
        { kind: 'paused', value: false },
        { kind: 'scheduled', value: true },
        { kind: 'id', op: '!=', value: 'etl' },
      ],
    });
    expect(parseWorkflowFilter('  ')).toEqual({ terms: [] });
    expect(parseWorkflowFilter('labels.note = "a AND b"')).toEqual({ terms: [{ kind: 'label', key: 'note', op: '=', value: 'a AND b' }] });
  });

  it('says what is wrong, naming the term', () => {
    const problem = (f: string) => (parseWorkflowFilter(f) as { problem: string }).problem;
    expect(problem('owner = "x"')).toMatch(/unknown field "owner"; filterable: labels.KEY, paused, scheduled, workflow_id/);
    expect(problem('paused = "yes"')).toMatch(/paused takes = true or = false/);
    expect(problem('labels.team = data')).toMatch(/cannot read "labels.team = data"/);
    expect(problem('labels.team = "a" OR paused = true')).toMatch(/cannot read/);
    expect(problem("labels.x = 'a'; DROP TABLE workflows")).toMatch(/cannot read/);
    expect(problem('labels.Bad Key = "a"')).toMatch(/cannot read/);
    expect(problem('x'.repeat(1001))).toBe('is longer than 1000 characters');
  });
});
