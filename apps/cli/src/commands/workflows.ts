import { Workflow } from '@skein/proto';
import { collectPages, type CommandContext } from '../command-context';
import { age, details, json, keyValues, table, timestamp } from '../format';
import { workflowNameOf } from '../names';

/** `skein workflows list [--filter EXPR]`: every workflow (that matches), through all pages. */
export async function listWorkflowsCommand(ctx: CommandContext, filter = ''): Promise<number> {
  const workflows = await collectPages(async (pageToken) => {
    const res = await ctx.client().listWorkflows({ pageSize: 1000, pageToken, filter });
    return { items: res.workflows, nextPageToken: res.nextPageToken };
  });
  if (ctx.output === 'json') {
    ctx.out(json({ workflows: workflows.map((w) => Workflow.toJSON(w)) }));
    return 0;
  }
  if (workflows.length === 0) {
    ctx.out(filter ? `no workflow matches ${JSON.stringify(filter)}` : 'no workflows: apply one with `skein apply -f FILE`');
    return 0;
  }
  const tasks = (w: Workflow) => {
    const spec = w.spec?.['spec'] as { tasks?: unknown[] } | undefined;
    return String(spec?.tasks?.length ?? 0);
  };
  ctx.out(table(['name', 'version', 'tasks', 'schedule', 'paused', 'updated'],
    workflows.map((w) => [w.workflowId, String(w.currentVersion), tasks(w), w.schedule || '-', w.paused ? 'yes' : 'no', age(w.updateTime)])));
  return 0;
}

/** `skein workflows get WORKFLOW`. */
export async function getWorkflowCommand(ctx: CommandContext, workflow: string): Promise<number> {
  const res = await ctx.client().getWorkflow({ name: workflowNameOf(workflow) });
  const w = res.workflow;
  if (!w) return 1;
  if (ctx.output === 'json') {
    ctx.out(json(Workflow.toJSON(w)));
    return 0;
  }
  const spec = w.spec?.['spec'] as { tasks?: { name: string; dependsOn?: string[] }[] } | undefined;
  ctx.out(details([
    ['Name', w.name],
    ['Version', String(w.currentVersion)],
    ['Schedule', w.schedule || '-'],
    ['Paused', w.paused ? 'yes' : 'no'],
    ['Labels', keyValues(w.labels)],
    ['Created', timestamp(w.createTime)],
    ['Updated', timestamp(w.updateTime)],
  ]));
  const tasks = spec?.tasks ?? [];
  if (tasks.length > 0) {
    ctx.out();
    ctx.out(table(['task', 'depends on'], tasks.map((t) => [t.name, t.dependsOn?.length ? t.dependsOn.join(', ') : '-'])));
  }
  return 0;
}

/** `skein workflows pause|unpause WORKFLOW`: stop or resume its schedule (runs already created go on). */
export async function pauseWorkflowCommand(ctx: CommandContext, workflow: string, paused: boolean): Promise<number> {
  const name = workflowNameOf(workflow);
  const res = paused ? await ctx.client().pauseWorkflow({ name }) : await ctx.client().resumeWorkflow({ name });
  const w = res.workflow;
  if (!w) return 1;
  if (ctx.output === 'json') ctx.out(json(Workflow.toJSON(w)));
  else ctx.out(`workflow ${w.workflowId}: ${w.paused ? 'paused' : 'unpaused'}${w.schedule ? ` (schedule ${w.schedule})` : ' (it has no schedule)'}`);
  return 0;
}
