/**
 * `kind: Pool` documents: a named number of slots shared by every task that names the pool, across
 * all runs of all workflows (Airflow's pools). A task takes `poolSlots` slots (default 1) while its
 * attempt is queued or running; tasks that find no free slot wait in state SCHEDULED and are admitted
 * by priority, then by how long they have waited.
 */
import { asInteger, asMap, asString, Fields, IssueList } from './fields';
import { didYouMean } from './suggest';
import type { Position, TreeNode } from './yaml-tree';
import { API_VERSION, readObjectHeader } from './validate-workflow';

/** The kind of a Pool document. */
export const POOL_KIND = 'Pool';
/** The most slots a pool may have. */
export const MAX_POOL_SLOTS = 100_000;

/** A normalised Pool: what is stored. */
export interface PoolSpec {
  readonly apiVersion: 'skein.dev/v1';
  readonly kind: 'Pool';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    /** How many slots tasks in the pool may hold at once; 0 holds every task back. */
    readonly slots: number;
    readonly description?: string;
  };
}

/** Finds a pool by name (a file's own, then stored ones); undefined when there is none. */
export type PoolLookup = (name: string) => PoolSpec | undefined;

const TOP_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec'];
const SPEC_FIELDS = ['slots', 'description'];

/** Validates one `kind: Pool` document; undefined when it has any issue (all added to `issues`). */
export function validatePoolDocument(root: TreeNode, issues: IssueList): PoolSpec | undefined {
  const before = issues.count;
  const map = asMap(root, '', issues);
  if (!map) return undefined;
  const top = new Fields(map, '', TOP_FIELDS, TOP_FIELDS, issues);
  const { name, labels } = readObjectHeader(top, issues);
  const specNode = top.getRequired('spec');
  const specMap = specNode && asMap(specNode, 'spec', issues);
  if (!specMap) return undefined;
  const s = new Fields(specMap, 'spec', SPEC_FIELDS, ['slots'], issues);
  const slotsNode = s.getRequired('slots');
  const slots = slotsNode && asInteger(slotsNode, s.pathOf('slots'), issues, 0, MAX_POOL_SLOTS);
  const descriptionNode = s.get('description');
  const description = descriptionNode && asString(descriptionNode, s.pathOf('description'), issues);
  if (issues.count > before || name === undefined || slots === undefined) return undefined;
  return { apiVersion: API_VERSION, kind: 'Pool', metadata: { name, labels }, spec: { slots, ...(description !== undefined && { description }) } };
}

/** Where a task names a pool, for the existence check against the pools known at apply time. */
export interface PoolRef {
  readonly name: string;
  readonly slots: number;
  readonly pos: Position;
  readonly path: string;
  readonly slotsPos?: Position;
  readonly slotsPath?: string;
}

/**
 * Every pool a workflow's tasks name must exist (in the same file or on the server), with at least as
 * many slots as the task takes: otherwise the task could never run.
 */
export function checkPoolRefs(refs: readonly PoolRef[], pools: PoolLookup, poolNames: () => readonly string[], issues: IssueList): void {
  for (const ref of refs) {
    const pool = pools(ref.name);
    if (!pool) {
      const names = poolNames();
      const known = names.length > 0 ? `; pools: ${[...names].sort().join(', ')}` : '; none is defined (apply a `kind: Pool` first)';
      issues.add(ref.pos, ref.path, `unknown pool ${JSON.stringify(ref.name)}${didYouMean(ref.name, names)}${known}`);
    } else if (ref.slots > pool.spec.slots && pool.spec.slots > 0) {
      issues.add(ref.slotsPos ?? ref.pos, ref.slotsPath ?? ref.path,
        `takes ${ref.slots} slots but pool ${JSON.stringify(ref.name)} has only ${pool.spec.slots}: the task could never run`);
    }
  }
}
