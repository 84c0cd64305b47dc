import { WorkflowVersion } from '@skein/proto';
import { collectPages, type CommandContext } from '../command-context';
import { json, table, timestamp } from '../format';
import { workflowNameOf } from '../names';

/** `skein workflows versions WORKFLOW`: every version, newest first. */
export async function listWorkflowVersionsCommand(ctx: CommandContext, workflow: string): Promise<number> {
  const parent = workflowNameOf(workflow);
  const versions = await collectPages(async (pageToken) => {
    const res = await ctx.client().listWorkflowVersions({ parent, pageSize: 1000, pageToken });
    return { items: res.versions, nextPageToken: res.nextPageToken };
  });
  if (ctx.output === 'json') {
    ctx.out(json({ versions: versions.map((v) => WorkflowVersion.toJSON(v)) }));
    return 0;
  }
  const tasks = (v: WorkflowVersion) => String((v.spec?.['spec'] as { tasks?: unknown[] } | undefined)?.tasks?.length ?? 0);
  ctx.out(table(['version', 'tasks', 'digest', 'created'], versions.map((v) => [String(v.version), tasks(v), v.digest.slice(0, 12), timestamp(v.createTime)])));
  return 0;
}

/** `skein workflows delete WORKFLOW`: refused while it has queued or running runs. */
export async function deleteWorkflowCommand(ctx: CommandContext, workflow: string): Promise<number> {
  const name = workflowNameOf(workflow);
  await ctx.client().deleteWorkflow({ name });
  ctx.out(ctx.output === 'json' ? json({}) : `workflow ${name.slice('workflows/'.length)} deleted with its runs`);
  return 0;
}
