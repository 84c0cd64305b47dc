import { LineCounter, parseAllDocuments } from 'yaml';
import { childPath, describeNode, itemPath } from './fields';
import { documentTree, type TreeNode } from './yaml-tree';

function tree(source: string): { root: TreeNode | undefined; problems: string[] } {
  const lineCounter = new LineCounter();
  const [doc] = parseAllDocuments(source, { lineCounter });
  if (!doc) throw new Error('no document');
  const { root, problems } = documentTree(doc, lineCounter);
  return { root, problems: problems.map((p) => `${p.pos.line}:${p.pos.column}: ${p.message}`) };
}

describe('documentTree', () => {
  it('gives every node its line and column', () => {
    const { root } = tree('a: 1\nb:\n  - x\n  - {c: true}\n');
    expect(root).toEqual({
      kind: 'map',
      pos: { line: 1, column: 1 },
      entries: [
        { key: 'a', keyPos: { line: 1, column: 1 }, value: { kind: 'scalar', pos: { line: 1, column: 4 }, value: 1 } },
        {
          key: 'b',
          keyPos: { line: 2, column: 1 },
          value: {
            kind: 'seq',
            pos: { line: 3, column: 3 },
            items: [
              { kind: 'scalar', pos: { line: 3, column: 5 }, value: 'x' },
              {
                kind: 'map',
                pos: { line: 4, column: 5 },
                entries: [{ key: 'c', keyPos: { line: 4, column: 6 }, value: { kind: 'scalar', pos: { line: 4, column: 9 }, value: true } }],
              },
            ],
          },
        },
      ],
    });
  });

  it('is undefined for an empty document', () => {
    expect(tree('---\n# nothing\n').root).toBeUndefined();
  });

  it('turns scalar keys into strings and reports collection keys', () => {
    const { root, problems } = tree('1: a\ntrue: b\n? [x]\n: c\n');
    expect(root?.kind === 'map' && root.entries.map((e) => e.key)).toEqual(['1', 'true']);
    expect(problems).toEqual(['3:3: a mapping key must be a string']);
  });

  it('expands aliases at the place of use, and reports self-containing ones', () => {
    const { root } = tree('a: &x {k: v}\nb: *x\n');
    expect(root?.kind === 'map' && root.entries[1]?.value).toEqual({
      kind: 'map',
      pos: { line: 2, column: 4 },
      entries: [{ key: 'k', keyPos: { line: 2, column: 4 }, value: { kind: 'scalar', pos: { line: 2, column: 4 }, value: 'v' } }],
    });
    expect(tree('a: &x [1, *x]\n').problems).toEqual(['1:11: alias *x refers to a node that contains it']);
  });
});

describe('paths and descriptions', () => {
  it('builds field paths, quoting keys that are not plain names', () => {
    expect(childPath('', 'spec')).toBe('spec');
    expect(itemPath(childPath('spec', 'tasks'), 2)).toBe('spec.tasks[2]');
    expect(childPath('metadata.labels', 'app.kubernetes.io/name')).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(childPath('env', '1A')).toBe('env["1A"]');
  });

  it('describes nodes for messages', () => {
    const pos = { line: 1, column: 1 };
    expect(describeNode({ kind: 'map', pos, entries: [] })).toBe('a mapping');
    expect(describeNode({ kind: 'seq', pos, items: [] })).toBe('a list');
    expect(describeNode({ kind: 'scalar', pos, value: null })).toBe('null');
    expect(describeNode({ kind: 'scalar', pos, value: 'x' })).toBe('the string "x"');
    expect(describeNode({ kind: 'scalar', pos, value: 2 })).toBe('the integer 2');
    expect(describeNode({ kind: 'scalar', pos, value: 2.5 })).toBe('the number 2.5');
    expect(describeNode({ kind: 'scalar', pos, value: false })).toBe('the boolean false');
  });
});
