/**
 * The TemplateService methods, transport-independent: task templates applied like workflows, and
 * RenderTask, the Job one task would get. Also {@link storedTemplates}, which the workflow methods
 * use to resolve `template:` at apply time against the stored templates.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { z } from 'zod';
import { parseWorkflowFile, type ParseOptions, type TaskTemplateSpec, type ParamValue } from '@skein/domain';
import {
  type ApplyTemplateRequest, type ApplyTemplateResponse, type GetTemplateRequest, type GetTemplateResponse, type ListTemplatesRequest,
  type ListTemplatesResponse, type RenderTaskRequest, type RenderTaskResponse, type TaskTemplate, type DeleteTemplateRequest, type DeleteTemplateResponse,
} from '@skein/proto';
import { manifestToYaml, renderTaskJob, UnknownTaskError } from '@skein/runtime';
import { applyTaskTemplate, deleteTaskTemplate, getTaskTemplate, listTaskTemplates, type Queryable, type TaskTemplateRecord } from '@skein/store';
import type { ApiContext } from './api-context';
import { ApiError, fileInvalid, invalidArgument } from './errors';
import { checkLength, checkParamsSize, MAX_FILE_NAME_LENGTH, MAX_NAME_LENGTH, quote } from './limits';
import { decodePageToken, encodePageToken, LIST_PAGE, pageSize } from './pagination';

/** Largest file accepted, in UTF-8 bytes. */
export const MAX_TEMPLATE_SOURCE_BYTES = 1024 * 1024;
/** The most stored templates consulted when a file is resolved. */
const MAX_STORED_TEMPLATES = 10_000;

const templateCursor = z.object({ k: z.literal('templates'), after: z.string().min(1) }).strict();

/** The TemplateService methods. */
export interface TemplateMethods {
  applyTemplate(request: ApplyTemplateRequest): Promise<ApplyTemplateResponse>;
  getTemplate(request: GetTemplateRequest): Promise<GetTemplateResponse>;
  listTemplates(request: ListTemplatesRequest): Promise<ListTemplatesResponse>;
  renderTask(request: RenderTaskRequest): Promise<RenderTaskResponse>;
  deleteTemplate(request: DeleteTemplateRequest): Promise<DeleteTemplateResponse>;
}

/** `templates/{name}` of a template. */
export function templateName(name: string): string {
  return `templates/${name}`;
}

function parseTemplateName(value: string, field: string): string {
  const match = /^templates\/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(value);
  if (!match?.[1]) throw invalidArgument(field, `${quote(value)} is not a resource name of the form \`templates/{template}\``);
  return match[1];
}

function toTemplate(record: TaskTemplateRecord): TaskTemplate {
  return {
    name: templateName(record.name),
    templateId: record.name,
    currentVersion: record.currentVersion,
    labels: { ...record.labels },
    spec: JSON.parse(JSON.stringify(record.spec)) as Record<string, unknown>,
    digest: record.digest,
    createTime: record.createTime,
    updateTime: record.updateTime,
  };
}


function checkSize(source: string): void {
  if (Buffer.byteLength(source, 'utf8') > MAX_TEMPLATE_SOURCE_BYTES) throw invalidArgument('source', `is larger than ${MAX_TEMPLATE_SOURCE_BYTES} bytes; split the file`);
}

/**
 * Parse options that resolve `template:` against the stored templates (after the file's own). One
 * query loads them all: there are few, and parsing is synchronous.
 */
export async function storedTemplates(db: Queryable): Promise<ParseOptions> {
  const rows = await listTaskTemplates(db, { limit: MAX_STORED_TEMPLATES });
  const byName = new Map<string, TaskTemplateSpec>(rows.map((row) => [row.name, row.spec]));
  return { templates: (name) => byName.get(name), templateNames: () => [...byName.keys()] };
}

export function createTemplateMethods(ctx: ApiContext): TemplateMethods {
  return {
    async applyTemplate(request) {
      checkSize(request.source);
      checkLength(request.fileName, 'file_name', MAX_FILE_NAME_LENGTH);
      const fileName = request.fileName || 'template.yaml';
      const parsed = parseWorkflowFile(request.source, fileName);
      if (parsed.errors.length > 0) throw fileInvalid(parsed.errors, 'TEMPLATE_INVALID');
      const [first, ...rest] = parsed.templates;
      if (!first || rest.length > 0 || parsed.workflows.length > 0) {
        throw fileInvalid([{
          file: fileName, line: 1, column: 1, path: '',
          message: `expected exactly one TaskTemplate document per request, found ${parsed.templates.length} (and ${parsed.workflows.length} workflows); apply each separately`,
        }], 'TEMPLATE_INVALID');
      }
      const result = await applyTaskTemplate(ctx.pool, first.spec, first.digest);
      ctx.logger.info({ template: first.spec.metadata.name, version: result.template.currentVersion, created: result.created }, 'task template applied');
      return { template: toTemplate(result.template), created: result.created };
    },

    async deleteTemplate(request) {
      const name = parseTemplateName(request.name, 'name');
      if (!(await deleteTaskTemplate(ctx.pool, name))) {
        throw new ApiError(GrpcStatus.NOT_FOUND, 'TEMPLATE_NOT_FOUND', `template ${request.name} not found`, { metadata: { resource: request.name } });
      }
      ctx.logger.info({ template: name }, 'task template deleted');
      return {};
    },

    async getTemplate(request) {
      const name = parseTemplateName(request.name, 'name');
      const record = await getTaskTemplate(ctx.pool, name);
      if (!record) {
        throw new ApiError(GrpcStatus.NOT_FOUND, 'TEMPLATE_NOT_FOUND', `template ${request.name} not found`, { metadata: { resource: request.name } });
      }
      return { template: toTemplate(record) };
    },

    async listTemplates(request) {
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, templateCursor);
      const rows = await listTaskTemplates(ctx.pool, { limit: limit + 1, afterName: cursor?.after });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        templates: page.map(toTemplate),
        nextPageToken: rows.length > limit && last ? encodePageToken({ k: 'templates', after: last.name }) : '',
      };
    },

    async renderTask(request) {
      checkSize(request.source);
      if (request.task === '') throw invalidArgument('task', 'name the task to render');
      checkLength(request.fileName, 'file_name', MAX_FILE_NAME_LENGTH);
      checkLength(request.task, 'task', MAX_NAME_LENGTH);
      checkLength(request.workflow, 'workflow', MAX_NAME_LENGTH);
      checkLength(request.namespace, 'namespace', MAX_NAME_LENGTH);
      checkParamsSize(request.params);
      const fileName = request.fileName || 'workflow.yaml';
      const parsed = parseWorkflowFile(request.source, fileName, await storedTemplates(ctx.pool));
      if (parsed.errors.length > 0) throw fileInvalid(parsed.errors, 'WORKFLOW_INVALID');
      const workflows = parsed.workflows.filter((w) => request.workflow === '' || w.spec.metadata.name === request.workflow);
      const [workflow, ...others] = workflows;
      if (!workflow || others.length > 0) {
        const names = parsed.workflows.map((w) => w.spec.metadata.name).join(', ') || 'none';
        throw invalidArgument('workflow', `${request.workflow === '' ? 'name one workflow of the file' : `no workflow ${quote(request.workflow)} in the file`} (it has: ${names})`);
      }
      const params: Record<string, ParamValue> = {};
      for (const [key, value] of Object.entries(request.params ?? {})) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') params[key] = value;
        else if (value !== null && typeof value === 'object' && !Array.isArray(value)) params[key] = value as Record<string, unknown>;
        else throw invalidArgument(`params.${key}`, 'must be a string, number, boolean or object');
      }
      try {
        const job = renderTaskJob(workflow.spec, request.task, { settings: { namespace: request.namespace || 'default' }, params });
        return { manifestYaml: manifestToYaml(job), manifest: JSON.parse(JSON.stringify(job)) as Record<string, unknown> };
      } catch (err) {
        if (err instanceof UnknownTaskError) throw invalidArgument('task', err.message);
        throw err;
      }
    },
  };
}
