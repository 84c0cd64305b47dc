import { formatIssue, parseWorkflowFile, type ParseOptions, type ParsedTemplate, type TaskTemplateSpec } from '@skein/domain';
import { manifestToYaml, renderTaskJob, UnknownTaskError } from '@skein/runtime';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { createTemplateClient } from '../template-client';
import { readWorkflowFiles } from '../workflow-files';

/** Options of `skein render`. */
export interface RenderOptions {
  readonly filename: readonly string[];
  readonly task: string;
  readonly workflow?: string;
  readonly param: readonly string[];
  readonly namespace?: string;
}

/** The TaskTemplates of every file named, so that one file's tasks may use another's templates. */
export function templatesOf(files: ReadonlyArray<{ name: string; source: string }>): ParseOptions {
  const byName = new Map<string, TaskTemplateSpec>();
  for (const file of files) {
    const templates: ParsedTemplate[] = parseWorkflowFile(file.source, file.name).templates;
    for (const t of templates) byName.set(t.spec.metadata.name, t.spec);
  }
  return { templates: (name) => byName.get(name), templateNames: () => [...byName.keys()] };
}

function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--param ${JSON.stringify(pair)}: expected NAME=VALUE`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

/**
 * `skein render -f FILE --task T`: prints the Job the kubernetes runtime would create for task T, as
 * YAML. Templates resolve from the files given; when the workflow names a template none of them
 * defines, the server renders it with its stored templates (RenderTask).
 */
export async function renderCommand(ctx: CommandContext, options: RenderOptions): Promise<number> {
  const files = options.filename.flatMap(readWorkflowFiles);
  const params = parseParams(options.param);
  const templates = templatesOf(files);
  const withWorkflows = files.map((file) => ({ file, parsed: parseWorkflowFile(file.source, file.name, templates) }))
    .filter(({ parsed }) => parsed.workflows.length > 0 || parsed.templates.length === 0);
  const candidates = withWorkflows.filter(({ parsed }) => options.workflow === undefined || parsed.workflows.some((w) => w.spec.metadata.name === options.workflow) || parsed.errors.length > 0);
  const [only, ...others] = candidates;
  if (!only || others.length > 0) {
    throw new CliError(only ? 'several workflow files given: name the workflow with --workflow' : 'no workflow file given (-f)');
  }
  const { file, parsed } = only;
  const unknownTemplate = parsed.errors.length > 0 && parsed.errors.every((issue) => issue.message.startsWith('unknown template'));
  let yaml: string;
  let manifest: unknown;
  if (unknownTemplate) {
    const client = createTemplateClient(ctx.client().connection);
    try {
      const res = await client.renderTask({ source: file.source, fileName: file.name, task: options.task, workflow: options.workflow ?? '', params, namespace: options.namespace ?? '' });
      yaml = res.manifestYaml;
      manifest = res.manifest;
    } finally {
      client.close();
    }
  } else {
    if (parsed.errors.length > 0) {
      for (const issue of parsed.errors) ctx.err(formatIssue(issue));
      return 1;
    }
    const workflows = parsed.workflows.filter((w) => options.workflow === undefined || w.spec.metadata.name === options.workflow);
    if (workflows.length !== 1) throw new CliError(`${file.name} has ${workflows.length} matching workflows: name one with --workflow`);
    try {
      const job = renderTaskJob(workflows[0]!.spec, options.task, { settings: { namespace: options.namespace ?? 'default' }, params });
      yaml = manifestToYaml(job);
      manifest = job;
    } catch (err) {
      if (err instanceof UnknownTaskError) throw new CliError(err.message);
      throw err;
    }
  }
  if (ctx.output === 'json') ctx.out(json(manifest));
  else ctx.io.stdout.write(yaml);
  return 0;
}
