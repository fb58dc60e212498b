// Revoke endpoint (POST /revoke, token in the form or the query): kills the whole grant.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { oauthError, parseParams, readBody, sendJson } from './http.ts';

export async function handleRevoke(ctx: Ctx, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = parseParams(req, await readBody(req));
  const token = body.get('token') ?? url.searchParams.get('token');
  if (!token) return oauthError(res, 400, 'invalid_request', 'Missing required parameter: token');
  if (!ctx.store.revokeToken(token)) return oauthError(res, 400, 'invalid_token', 'Token expired or revoked');
  ctx.stats.revocations++;
  sendJson(res, 200, {});
}
