import { status as GrpcStatus } from '@grpc/grpc-js';
import { labelKeyProblem, labelValueProblem, workflowDigest, type WorkflowSpec } from '@skein/domain';
import type {
  CreateWorkflowRequest, CreateWorkflowResponse, UpdateWorkflowRequest, UpdateWorkflowResponse, Workflow,
} from '@skein/proto';
import { applyWorkflow, getWorkflow, getWorkflowVersion, isAlreadyExists, isConcurrentChange, isNotFound, type ApplyWorkflowResult } from '@skein/store';
import type { ApiContext } from './api-context';
import { ApiError, invalidArgument, notFound, type FieldViolation } from './errors';
import { checkJsonDepth, MAX_DOCUMENT_DEPTH, quote } from './limits';
import { toWorkflow, toWorkflowVersion } from './mappers';
import { parseWorkflowName, workflowName } from './resource-names';
import { parseOne, storedObjects } from './workflow-methods';

/**
 * CreateWorkflow (https://google.aip.dev/133) and UpdateWorkflow with a field mask
 * (https://google.aip.dev/134, https://google.aip.dev/161). Both store through the same
 * `applyWorkflow` as ApplyWorkflow, so versions, digests and locking are the same whichever way a
 * workflow changes.
 */
export interface WorkflowUpdateMethods {
  createWorkflow(request: CreateWorkflowRequest): Promise<CreateWorkflowResponse>;
  updateWorkflow(request: UpdateWorkflowRequest): Promise<UpdateWorkflowResponse>;
}

/** The Workflow fields an update mask may name. */
export const UPDATABLE_WORKFLOW_FIELDS = ['spec', 'labels', 'paused'] as const;
type UpdatableField = (typeof UPDATABLE_WORKFLOW_FIELDS)[number];

// Named in the mask they are an error, not silently ignored: the caller asked for something that cannot happen.
const OUTPUT_ONLY_FIELDS = new Set(['name', 'workflow_id', 'workflowId', 'current_version', 'currentVersion', 'schedule',
  'create_time', 'createTime', 'update_time', 'updateTime']);

/** Most labels one workflow may carry. */
export const MAX_WORKFLOW_LABELS = 64;

/** How often an update whose workflow changed under it is started again from a fresh read. */
const UPDATE_ATTEMPTS = 3;

/** Where errors locate a document sent as `workflow.spec` (there is no file). */
const SPEC_FIELD = 'workflow.spec';

function isUpdatable(path: string): path is UpdatableField {
  return (UPDATABLE_WORKFLOW_FIELDS as readonly string[]).includes(path);
}

/** The fields an update changes: the mask's paths, or (no mask) every field the request sets. */
export function updatedFields(mask: readonly string[] | undefined, workflow: Workflow): Set<UpdatableField> {
  if (!mask || mask.length === 0) {
    const implied = new Set<UpdatableField>();
    if (workflow.spec && Object.keys(workflow.spec).length > 0) implied.add('spec');
    if (Object.keys(workflow.labels).length > 0) implied.add('labels');
    if (workflow.paused) implied.add('paused');
    return implied;
  }
  if (mask.includes('*')) {
    if (mask.length > 1) throw invalidArgument('update_mask', '`*` replaces every updatable field, so it must be the only path');
    return new Set(UPDATABLE_WORKFLOW_FIELDS);
  }
  const fields = new Set<UpdatableField>();
  for (const path of mask) {
    if (isUpdatable(path)) fields.add(path);
    else if (OUTPUT_ONLY_FIELDS.has(path)) throw invalidArgument('update_mask', `${quote(path)} is output only and cannot be updated`);
    else {
      throw invalidArgument('update_mask', `unknown field path ${quote(path)}: the updatable fields of a Workflow are ` +
        `${UPDATABLE_WORKFLOW_FIELDS.join(', ')} (spec is replaced as a whole)`);
    }
  }
  return fields;
}

/** Checks labels as the workflow validator does; each bad one is a violation naming `workflow.labels.<key>`. */
function checkLabels(labels: Readonly<Record<string, string>>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_WORKFLOW_LABELS) throw invalidArgument('workflow.labels', `has ${entries.length} labels; the limit is ${MAX_WORKFLOW_LABELS}`);
  const violations: FieldViolation[] = [];
  for (const [key, value] of entries) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) violations.push({ field: `workflow.labels.${key.slice(0, 300)}`, description: problem });
  }
  if (violations.length > 0) {
    throw new ApiError(GrpcStatus.INVALID_ARGUMENT, 'INVALID_ARGUMENT', violations.map((v) => `${v.field}: ${v.description}`).join('\n'), {
      metadata: { field: 'workflow.labels' }, fieldViolations: violations,
    });
  }
}

function withLabels(spec: WorkflowSpec, labels: Readonly<Record<string, string>>): WorkflowSpec {
  return { ...spec, metadata: { ...spec.metadata, labels: { ...labels } } };
}

function alreadyExists(id: string): ApiError {
  const name = workflowName(id);
  return new ApiError(GrpcStatus.ALREADY_EXISTS, 'WORKFLOW_ALREADY_EXISTS',
    `workflow ${name} already exists: change it with UpdateWorkflow or ApplyWorkflow`, { metadata: { resource: name } });
}

export function createWorkflowUpdateMethods(ctx: ApiContext): WorkflowUpdateMethods {
  /**
   * The request's document as a validated spec. Its `metadata.name` defaults to `workflowId`; when
   * both are given they must agree (`mismatchField` is named otherwise).
   */
  async function parseDocument(workflow: Workflow, workflowId: string, mismatchField: string): Promise<{ spec: WorkflowSpec; digest: string }> {
    const document = workflow.spec;
    if (!document || Object.keys(document).length === 0) {
      throw invalidArgument(SPEC_FIELD, 'is required: the whole workflow document (apiVersion, kind, metadata, spec), as in a workflow file');
    }
    checkJsonDepth(document, SPEC_FIELD, MAX_DOCUMENT_DEPTH);
    const metadata: unknown = document['metadata'];
    const given = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : undefined;
    if (workflowId !== '' && given?.['name'] !== undefined && given['name'] !== workflowId) {
      throw invalidArgument(mismatchField, `must equal workflow.spec.metadata.name (${quote(String(given['name']))}), got ${quote(workflowId)}`);
    }
    const filled = workflowId !== '' && given && given['name'] === undefined ? { ...document, metadata: { ...given, name: workflowId } } : document;
    let parsed = parseOne(JSON.stringify(filled), SPEC_FIELD, await storedObjects(ctx.pool), SPEC_FIELD);
    if (Object.keys(workflow.labels).length > 0) {
      checkLabels(workflow.labels);
      const spec = withLabels(parsed.spec, workflow.labels);
      parsed = { ...parsed, spec, digest: workflowDigest(spec) };
    }
    return parsed;
  }

  async function store(spec: WorkflowSpec, digest: string, options: Parameters<typeof applyWorkflow>[3]): Promise<ApplyWorkflowResult> {
    try {
      return await applyWorkflow(ctx.pool, spec, digest, options);
    } catch (err) {
      if (isAlreadyExists(err)) throw alreadyExists(spec.metadata.name);
      if (isNotFound(err)) throw notFound('workflow', workflowName(spec.metadata.name));
      throw err;
    }
  }

  return {
    async createWorkflow(request) {
      const workflow = request.workflow;
      if (!workflow) throw invalidArgument('workflow', 'is required');
      if (request.workflowId !== '') parseWorkflowName(workflowName(request.workflowId), 'workflow_id');
      const { spec, digest } = await parseDocument(workflow, request.workflowId, 'workflow_id');
      const result = await store(spec, digest, { expect: 'absent', paused: workflow.paused || undefined });
      ctx.logger.info({ workflow: spec.metadata.name, version: result.version.version }, 'workflow created');
      return { workflow: toWorkflow(result.workflow), version: toWorkflowVersion(result.version) };
    },

    async updateWorkflow(request) {
      const workflow = request.workflow;
      if (!workflow) throw invalidArgument('workflow', 'is required');
      const { workflowId } = parseWorkflowName(workflow.name, 'workflow.name');
      const fields = updatedFields(request.updateMask, workflow);
      const paused = fields.has('paused') ? workflow.paused : undefined;
      // The new spec, when the request gives one, does not depend on the stored workflow: parse it once.
      const given = fields.has('spec') ? await parseDocument({ ...workflow, labels: {} }, workflowId, 'workflow.name') : undefined;
      if (fields.has('labels')) checkLabels(workflow.labels);
      for (let attempt = 1; ; attempt++) {
        const existing = await getWorkflow(ctx.pool, workflowId);
        if (!existing) {
          if (!request.allowMissing) throw notFound('workflow', workflow.name);
          const { spec, digest } = given && !fields.has('labels') ? given : await parseDocument(workflow, workflowId, 'workflow.name');
          const result = await store(spec, digest, { paused });
          ctx.logger.info({ workflow: workflowId, version: result.version.version }, 'workflow created by update');
          return { workflow: toWorkflow(result.workflow), version: toWorkflowVersion(result.version), versionCreated: result.created };
        }
        if (fields.size === 0) {
          // Nothing to change: the current state, as AIP-134 has an empty update answer.
          const version = await getWorkflowVersion(ctx.pool, workflowId, existing.currentVersion);
          if (!version) throw notFound('workflow', workflow.name);
          return { workflow: toWorkflow(existing), version: toWorkflowVersion(version), versionCreated: false };
        }
        // A field not in the mask keeps its stored value, so the spec starts from the current version.
        let next = given ?? { spec: existing.spec, digest: existing.digest };
        if (fields.has('labels')) {
          const spec = withLabels(next.spec, workflow.labels);
          next = { spec, digest: workflowDigest(spec) };
        }
        try {
          // Built from the stored spec, the write must not land on a version applied since it was read.
          const ifCurrentDigest = given ? undefined : existing.digest;
          const result = await store(next.spec, next.digest, { expect: 'present', paused, ifCurrentDigest });
          ctx.logger.info({ workflow: workflowId, fields: [...fields], version: result.version.version, created: result.created }, 'workflow updated');
          return { workflow: toWorkflow(result.workflow), version: toWorkflowVersion(result.version), versionCreated: result.created };
        } catch (err) {
          if (!isConcurrentChange(err)) throw err;
          if (attempt >= UPDATE_ATTEMPTS) {
            throw new ApiError(GrpcStatus.ABORTED, 'WORKFLOW_CHANGED', `workflow ${workflow.name} kept changing while it was being updated; try again`,
              { metadata: { resource: workflow.name } });
          }
        }
      }
    },
  };
}
