/**
 * Checks between tasks: names unique, dependsOn naming real tasks (not themselves), no cycles, and
 * templates referring only to declared params and to upstream tasks.
 */
import { findCycles, upstreamClosures, type DagTask } from './dag';
import type { IssueList } from './fields';
import { didYouMean } from './suggest';
import { templateProblems } from './template-syntax';
import type { TaskDraft } from './validate-task';

/** Most unknown task names (in `dependsOn` and templates) per file that get a "did you mean" suggestion. */
export const MAX_UNKNOWN_TASK_SUGGESTIONS = 100;

/** Reports every problem between the given tasks. `params` are the declared param names. */
export function checkTaskGraph(drafts: readonly TaskDraft[], params: readonly string[], issues: IssueList): void {
  // Tasks with a valid name, first definition of each name only.
  const byName = new Map<string, TaskDraft>();
  for (const draft of drafts) {
    if (draft.namePos === undefined) continue;
    const first = byName.get(draft.spec.name);
    if (first) {
      issues.add(draft.namePos, `${draft.path}.name`, `duplicate task name ${JSON.stringify(draft.spec.name)} (first defined on line ${first.namePos?.line ?? first.pos.line})`);
      continue;
    }
    byName.set(draft.spec.name, draft);
  }
  const names = [...byName.keys()];

  // A suggestion compares the name with every task's: past this many unknown names in one file, the
  // rest get none, so a file of thousands of bad references validates in milliseconds, not minutes.
  const suggestions = { remaining: MAX_UNKNOWN_TASK_SUGGESTIONS };
  for (const draft of drafts) {
    for (const dep of draft.dependsOn) {
      if (draft.namePos !== undefined && dep.name === draft.spec.name) {
        issues.add(dep.pos, dep.path, `task ${JSON.stringify(dep.name)} cannot depend on itself`);
      } else if (!byName.has(dep.name)) {
        const suggestion = suggestions.remaining-- > 0 ? didYouMean(dep.name, names) : '';
        issues.add(dep.pos, dep.path, `unknown task ${JSON.stringify(dep.name)}${suggestion}`);
      }
    }
  }

  const dag: DagTask[] = [...byName.values()].map((d) => d.spec);
  for (const cycle of findCycles(dag)) {
    const first = byName.get(cycle[0] as string) as TaskDraft;
    const last = cycle[cycle.length - 1] as string;
    // Point at the dependsOn entry that closes the cycle: the first task depending on the last.
    const ref = first.dependsOn.find((d) => d.name === last);
    issues.add(ref?.pos ?? first.pos, ref?.path ?? first.path, `cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  }

  const withTemplates = [...byName.values()].some((d) => d.templateSites.some((site) => site.text.includes('{{')));
  const closures = withTemplates ? upstreamClosures(dag) : new Map<string, Set<string>>();
  for (const [name, draft] of byName) {
    if (draft.templateSites.length === 0) continue;
    const scope = { params, task: name, tasks: names, upstream: closures.get(name) ?? new Set<string>(), suggestions };
    for (const site of draft.templateSites) {
      for (const problem of templateProblems(site.text, scope)) issues.add(site.pos, site.path, problem);
    }
  }
}
