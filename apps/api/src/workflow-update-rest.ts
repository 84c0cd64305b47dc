/**
 * CreateWorkflow and UpdateWorkflow over REST (mounted by rest-router.ts), as AIP-133/134 map them:
 *   POST  /v1/workflows          ?workflowId            body: Workflow
 *   PATCH /v1/workflows/{name}   ?updateMask&allowMissing body: Workflow (its name comes from the path)
 */
import express, { type Request } from 'express';
import { CreateWorkflowResponse, UpdateWorkflowResponse, type Workflow } from '@skein/proto';
import { invalidArgument } from './errors';
import { quote } from './limits';
import type { RestRoute } from './template-rest';
import type { WorkflowUpdateMethods } from './workflow-update-methods';

function queryString(req: Request, jsonName: string, protoName: string): string {
  const value = req.query[jsonName] ?? req.query[protoName];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be given once');
  return value;
}

function queryBoolean(req: Request, jsonName: string, protoName: string): boolean {
  const value = queryString(req, jsonName, protoName);
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidArgument(protoName, `must be true or false, got ${quote(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The body as a Workflow, checked field by field: proto3 JSON's generated reader would turn a wrong
 * type into a default (`"paused": "yes"` into true), and the caller should hear about it instead.
 */
export function workflowOfBody(body: unknown, name: string): Workflow {
  const value = body === undefined ? {} : body;
  if (!isObject(value)) throw invalidArgument('workflow', 'the body must be a JSON object: a Workflow');
  const spec = value['spec'];
  if (spec !== undefined && spec !== null && !isObject(spec)) throw invalidArgument('workflow.spec', 'must be a JSON object: the workflow document');
  const labels = value['labels'] ?? {};
  if (!isObject(labels)) throw invalidArgument('workflow.labels', 'must be a JSON object of label names to strings');
  for (const [key, label] of Object.entries(labels)) {
    if (typeof label !== 'string') throw invalidArgument(`workflow.labels.${key.slice(0, 300)}`, 'must be a string');
  }
  const paused = value['paused'] ?? false;
  if (typeof paused !== 'boolean') throw invalidArgument('workflow.paused', 'must be true or false');
  return {
    name, workflowId: '', currentVersion: 0, labels: labels as Record<string, string>, schedule: '',
    spec: isObject(spec) ? spec : undefined, createTime: undefined, updateTime: undefined, paused,
  };
}

/** The create and update routes. */
export function workflowUpdateRoutes(methods: WorkflowUpdateMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/workflows', route('CreateWorkflow', async (req) => CreateWorkflowResponse.toJSON(await methods.createWorkflow({
    workflow: workflowOfBody(req.body, ''), workflowId: queryString(req, 'workflowId', 'workflow_id'),
  }))));
  router.patch('/v1/workflows/:w', route('UpdateWorkflow', async (req) => {
    const mask = queryString(req, 'updateMask', 'update_mask');
    return UpdateWorkflowResponse.toJSON(await methods.updateWorkflow({
      workflow: workflowOfBody(req.body, `workflows/${String(req.params['w'] ?? '')}`),
      // proto3 JSON writes a FieldMask as one comma-separated string of lowerCamelCase paths.
      updateMask: mask === '' ? undefined : mask.split(',').map((path) => path.trim()),
      allowMissing: queryBoolean(req, 'allowMissing', 'allow_missing'),
    }));
  }));
  return router;
}
