/**
 * A YAML document as a small tree of maps, lists and scalars in which every node knows its line
 * and column. Validation works on this tree rather than on the `yaml` package's nodes, so that it
 * deals with aliases, odd keys and positions in one place.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml';

/** A 1-based line and column in the source. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface MapEntry {
  readonly key: string;
  readonly keyPos: Position;
  readonly value: TreeNode;
}

export interface MapNode {
  readonly kind: 'map';
  readonly pos: Position;
  readonly entries: readonly MapEntry[];
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly pos: Position;
  readonly items: readonly TreeNode[];
}

export interface ScalarNode {
  readonly kind: 'scalar';
  readonly pos: Position;
  readonly value: string | number | boolean | null;
}

export type TreeNode = MapNode | SeqNode | ScalarNode;

/** A problem met while building the tree (the path is filled in by the caller). */
export interface TreeProblem {
  readonly pos: Position;
  readonly message: string;
}

/**
 * At most this many nodes per document after expanding aliases: a few anchors can otherwise expand
 * to billions of nodes ("billion laughs").
 */
export const MAX_TREE_NODES = 200_000;

/** Builds the tree of a parsed document; undefined for an empty document. */
export function documentTree(doc: Document.Parsed, lineCounter: LineCounter): { root: TreeNode | undefined; problems: TreeProblem[] } {
  const problems: TreeProblem[] = [];
  const expanding = new Set<YamlNode>();
  let budget = MAX_TREE_NODES;
  let overBudget = false;

  const position = (node: YamlNode | null | undefined, fallback: Position): Position => {
    const offset = node?.range?.[0];
    if (offset === undefined) return fallback;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  // `aliasPos` is set while expanding an alias: every node of the copy is reported at the alias,
  // where the value is used, since its path is that of the use too.
  const convert = (node: YamlNode | null | undefined, fallback: Position, aliasPos?: Position): TreeNode => {
    const pos = aliasPos ?? position(node, fallback);
    if (--budget < 0) {
      if (!overBudget) problems.push({ pos, message: `document is too large: more than ${MAX_TREE_NODES} nodes after expanding aliases` });
      overBudget = true;
      return { kind: 'scalar', pos, value: null };
    }
    if (node === null || node === undefined) return { kind: 'scalar', pos, value: null };
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) {
        problems.push({ pos, message: `unknown alias *${node.source}` });
        return { kind: 'scalar', pos, value: null };
      }
      if (expanding.has(target)) {
        problems.push({ pos, message: `alias *${node.source} refers to a node that contains it` });
        return { kind: 'scalar', pos, value: null };
      }
      return convert(target, pos, pos);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || v === undefined) return { kind: 'scalar', pos, value: null };
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { kind: 'scalar', pos, value: v };
      if (typeof v === 'bigint') return { kind: 'scalar', pos, value: Number(v) };
      return { kind: 'scalar', pos, value: String(v) };
    }
    expanding.add(node);
    try {
      if (isSeq(node)) return { kind: 'seq', pos, items: node.items.map((item) => convert(item as YamlNode, pos, aliasPos)) };
      if (isMap(node)) {
        const entries: MapEntry[] = [];
        for (const pair of node.items) {
          const keyNode = pair.key as YamlNode | null;
          const keyPos = aliasPos ?? position(keyNode, pos);
          const key = keyNode === null ? null : convert(keyNode, pos, aliasPos);
          if (key === null || key.kind !== 'scalar') {
            problems.push({ pos: keyPos, message: 'a mapping key must be a string' });
            continue;
          }
          entries.push({ key: key.value === null ? '' : String(key.value), keyPos, value: convert(pair.value as YamlNode | null, keyPos, aliasPos) });
        }
        return { kind: 'map', pos, entries };
      }
    } finally {
      expanding.delete(node);
    }
    return { kind: 'scalar', pos, value: null };
  };

  const contents = doc.contents as YamlNode | null;
  if (contents === null || (isScalar(contents) && contents.value === null)) return { root: undefined, problems };
  return { root: convert(contents, { line: 1, column: 1 }), problems };
}
