// /api: the OpenAPI document and its interactive docs (public), and /api/v1, where every operation of the table
// (operations.ts) is served: bearer token → rate limit → access (scope, admin) → zod-checked input → the feature's
// service → JSON, or problem+json for any error. Mounted before the session: the API never reads or sets a cookie.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../web/errors.ts';
import { fieldErrors, objectBody } from '../web/forms.ts';
import { auditDenials, markDenied } from '../security/denials.ts';
import type { ApiContext, Operation, Reply } from './define.ts';
import { ApiProblem, notFound, problem, sendProblem } from './problem.ts';
import { auditWrites, bearerAuth } from './auth.ts';
import { TokenRateLimit } from './rate-limit.ts';
import { fingerprint, idempotent } from './idempotency.ts';
import { buildOpenApi } from './openapi.ts';
import { docsRoutes } from './docs.ts';
import { operations } from './operations.ts';

export const API_VERSION = '1.0.0';

function handler(deps: AppDeps, o: Operation) {
  return async (req: Request, res: Response): Promise<void> => {
    const ctx = res.locals.api as ApiContext;
    if (o.admin && ctx.user.role !== 'ADMIN') {
      markDenied(res, { reason: 'administrators only' });
      throw new ApiProblem(403, 'This operation is for administrators.');
    }
    if (o.access === 'write' && ctx.token.scope !== 'READ_WRITE')
      throw new ApiProblem(403, 'This token is read-only: create a read-write token to make changes.');
    const params = o.params ? o.params.safeParse(req.params) : { success: true as const, data: {} };
    if (!params.success) throw notFound();
    const query = o.query ? o.query.safeParse(req.query) : { success: true as const, data: {} };
    if (!query.success)
      throw new ApiProblem(400, 'A query parameter is not valid: see errors.', { errors: fieldErrors(query.error) });
    const body = o.body ? o.body.safeParse(req.body) : { success: true as const, data: undefined };
    if (!body.success)
      throw new ApiProblem(422, 'Some fields are not valid: see errors.', {
        type: '/api/problems/invalid-fields',
        errors: fieldErrors(body.error),
      });
    const run = () => o.handle({ params: params.data, query: query.data, body: body.data } as never, ctx);
    const key = req.get('idempotency-key');
    const reply: Reply =
      o.idempotent && key !== undefined
        ? await idempotent(
            deps.db.prisma,
            {
              tokenId: ctx.token.id,
              key,
              fingerprint: fingerprint(req.method, req.originalUrl.split('?')[0], req.body),
            },
            run,
          )
        : await run();
    res.status(reply.status).set({ 'Cache-Control': 'no-store', ...reply.headers });
    if (reply.body === undefined) res.end();
    else res.json(reply.body);
  };
}

/** Every error under /api as problem+json: ours, the pages' HttpErrors (404s from shared loaders), body-parser's. */
function apiErrors(deps: AppDeps) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    if (err instanceof ApiProblem) return sendProblem(res, err.toJSON(), err.extra.headers);
    const page = describeError(err);
    if (page.status >= 500)
      deps.logger.error({ err, method: req.method, url: req.originalUrl.split('?')[0] }, 'API request failed');
    sendProblem(res, problem(page.status, page.message));
  };
}

export function apiRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  const ops = operations(deps);
  const doc = buildOpenApi(ops, { version: API_VERSION, serverUrl: deps.config.publicUrl });
  r.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(doc);
  });
  r.use('/docs', docsRoutes());

  const v1 = Router();
  v1.use(express.json({ limit: '256kb', type: ['application/json', 'application/*+json'] }));
  v1.use(objectBody);
  v1.use(auditDenials(prisma, deps.logger));
  v1.use(auditWrites(prisma, deps.logger));
  v1.use(bearerAuth(prisma, new TokenRateLimit(deps.db.raw, deps.config.apiRateLimitPerMinute), deps.logger));
  for (const o of ops) v1[o.method](o.path, handler(deps, o));
  v1.use((_req, _res) => {
    throw notFound('No such API operation. See /api/openapi.json.');
  });
  r.use('/v1', v1);
  r.use((_req: Request, _res: Response) => {
    throw notFound('No such API address. The API lives under /api/v1; its description is /api/openapi.json.');
  });
  r.use(apiErrors(deps));
  return r;
}
