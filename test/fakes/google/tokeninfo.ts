// Google's tokeninfo endpoint (GET|POST /tokeninfo?access_token=): what a resource server such as Dovecot's
// oauth2 passdb asks to check a bearer token. Live tokens answer 200 with their claims; others 400 "Invalid Value".
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { oauthError, parseParams, readBody, sendJson } from './http.ts';
import { hasEmailScope } from './scopes.ts';

export async function handleTokeninfo(ctx: Ctx, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  ctx.stats.tokeninfoRequests++;
  const body = req.method === 'POST' ? parseParams(req, await readBody(req)) : new URLSearchParams();
  const token = url.searchParams.get('access_token') ?? body.get('access_token');
  const live = token ? ctx.store.liveAccess(token) : undefined;
  const account = live ? ctx.store.account(live.grant.email) : undefined;
  if (!live || !account) return oauthError(res, 400, 'invalid_token', 'Invalid Value');
  const now = ctx.store.now();
  // Google sends the numbers and the boolean as strings, and the email only when an email scope was granted.
  const claims: Record<string, string> = {
    azp: live.grant.clientId,
    aud: live.grant.clientId,
    sub: account.sub,
    scope: live.scopes.join(' '),
    exp: String(Math.floor(live.expiresAt / 1000)),
    expires_in: String(Math.max(0, Math.floor((live.expiresAt - now) / 1000))),
  };
  if (hasEmailScope(live.scopes)) {
    Object.assign(claims, { email: account.email, email_verified: String(account.emailVerified) });
  }
  claims.access_type = 'offline';
  sendJson(res, 200, claims);
}
