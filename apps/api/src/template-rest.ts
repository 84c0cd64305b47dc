/**
 * The TemplateService over REST (mounted by rest-router.ts):
 *   POST /v1/templates:apply    {source, fileName}
 *   GET  /v1/templates          ?pageSize&pageToken
 *   GET  /v1/templates/{name}
 *   POST /v1/templates:render   {source, fileName, task, workflow, params, namespace}
 *   DELETE /v1/templates/{name}
 */
import express, { type Request, type Response } from 'express';
import {
  ApplyTemplateRequest, ApplyTemplateResponse, DeleteTemplateResponse, GetTemplateResponse, ListTemplatesResponse, RenderTaskRequest, RenderTaskResponse,
} from '@skein/proto';
import { invalidArgument } from './errors';
import type { TemplateMethods } from './template-methods';

/** How rest-router.ts runs one method and answers it (JSON, or the error as a Status). */
export type RestRoute = (method: string, handle: (req: Request) => Promise<unknown>) => (req: Request, res: Response) => Promise<void>;

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** A query parameter by its proto3 JSON name or, as every REST route takes it, its proto field name. */
function query(req: Request, name: string, protoName: string): string {
  const value = req.query[name] ?? req.query[protoName];
  return typeof value === 'string' ? value : '';
}

/** The template routes. */
export function templateRoutes(methods: TemplateMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/templates\\:apply', route('ApplyTemplate', async (req) =>
    ApplyTemplateResponse.toJSON(await methods.applyTemplate(ApplyTemplateRequest.fromJSON(body(req))))));
  router.post('/v1/templates\\:render', route('RenderTask', async (req) =>
    RenderTaskResponse.toJSON(await methods.renderTask(RenderTaskRequest.fromJSON(body(req))))));
  router.get('/v1/templates', route('ListTemplates', async (req) => {
    const pageSize = query(req, 'pageSize', 'page_size');
    if (pageSize !== '' && !/^\d{1,9}$/.test(pageSize)) throw invalidArgument('page_size', 'must be a non-negative integer');
    return ListTemplatesResponse.toJSON(await methods.listTemplates({ pageSize: Number(pageSize || 0), pageToken: query(req, 'pageToken', 'page_token') }));
  }));
  router.get('/v1/templates/:t', route('GetTemplate', async (req) =>
    GetTemplateResponse.toJSON(await methods.getTemplate({ name: `templates/${String(req.params['t'] ?? '')}` }))));
  router.delete('/v1/templates/:t', route('DeleteTemplate', async (req) =>
    DeleteTemplateResponse.toJSON(await methods.deleteTemplate({ name: `templates/${String(req.params['t'] ?? '')}` }))));
  return router;
}
