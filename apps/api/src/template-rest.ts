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
import { bodyObject, pageSizeQuery, queryString } from './rest-request';
import type { TemplateMethods } from './template-methods';

/** How rest-router.ts runs one method and answers it (JSON, or the error as a Status). */
export type RestRoute = (method: string, handle: (req: Request) => Promise<unknown>) => (req: Request, res: Response) => Promise<void>;



/** The template routes. */
export function templateRoutes(methods: TemplateMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/templates\\:apply', route('ApplyTemplate', async (req) =>
    ApplyTemplateResponse.toJSON(await methods.applyTemplate(ApplyTemplateRequest.fromJSON(bodyObject(req))))));
  router.post('/v1/templates\\:render', route('RenderTask', async (req) =>
    RenderTaskResponse.toJSON(await methods.renderTask(RenderTaskRequest.fromJSON(bodyObject(req))))));
  router.get('/v1/templates', route('ListTemplates', async (req) =>
    ListTemplatesResponse.toJSON(await methods.listTemplates({ pageSize: pageSizeQuery(req), pageToken: queryString(req, 'pageToken', 'page_token') }))));
  router.get('/v1/templates/:t', route('GetTemplate', async (req) =>
    GetTemplateResponse.toJSON(await methods.getTemplate({ name: `templates/${String(req.params['t'] ?? '')}` }))));
  router.delete('/v1/templates/:t', route('DeleteTemplate', async (req) =>
    DeleteTemplateResponse.toJSON(await methods.deleteTemplate({ name: `templates/${String(req.params['t'] ?? '')}` }))));
  return router;
}
