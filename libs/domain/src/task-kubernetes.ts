/**
 * A task's effective Kubernetes settings: `spec.defaults.kubernetes` (and a template's) under the
 * task's own `kubernetes:`, merged (merge-kubernetes.ts), then checked as a whole: every volume
 * mount must name a volume declared at some layer.
 */
import type { IssueList } from './fields';
import type { KubernetesSpec } from './kubernetes-spec';
import { declaredVolumes, mergeKubernetesSpec } from './merge-kubernetes';
import { readKubernetes, type MountSite } from './read-kubernetes';
import type { Position, TreeNode } from './yaml-tree';

/** Kubernetes settings with where their volume mounts were written. */
export interface KubernetesDraft {
  readonly spec: KubernetesSpec;
  readonly mounts: readonly MountSite[];
}

/** Layers `upper` over `lower`, keeping the mount sites of both. */
export function layerKubernetes(lower: KubernetesDraft | undefined, upper: KubernetesDraft | undefined): KubernetesDraft | undefined {
  if (!lower) return upper;
  if (!upper) return lower;
  return { spec: mergeKubernetesSpec(lower.spec, upper.spec) ?? {}, mounts: [...lower.mounts, ...upper.mounts] };
}

/** Reports every mount of `draft` that names no declared volume (at the mount, or at `fallback` when it came from elsewhere). */
export function checkMounts(draft: KubernetesDraft | undefined, issues: IssueList, fallback?: { pos: Position; path: string }): void {
  if (!draft) return;
  const declared = declaredVolumes(draft.spec);
  const reported = new Set<string>();
  for (const mount of draft.mounts) {
    if (declared.has(mount.name)) continue;
    reported.add(mount.name);
    issues.add(mount.pos, mount.path, `volume mount names no declared volume ${JSON.stringify(mount.name)}; add it to kubernetes.volumes`);
  }
  if (!fallback) return;
  for (const mount of draft.spec.volumeMounts ?? []) {
    if (declared.has(mount.name) || reported.has(mount.name)) continue;
    issues.add(fallback.pos, fallback.path, `volume mount ${JSON.stringify(mount.mountPath)} names no declared volume ${JSON.stringify(mount.name)}; add it to kubernetes.volumes`);
  }
}

/**
 * Reads a `kubernetes:` block (if any) over `lower`. With `taskPos` (a task, not defaults or a
 * template) the merged result's mounts are checked.
 */
export function readTaskKubernetes(node: TreeNode | undefined, path: string, issues: IssueList, lower?: KubernetesDraft, taskPos?: Position): KubernetesDraft | undefined {
  const own = node ? readKubernetes(node, path, issues) : undefined;
  const merged = layerKubernetes(lower, own);
  if (taskPos) checkMounts(merged, issues, { pos: taskPos, path });
  return merged;
}
