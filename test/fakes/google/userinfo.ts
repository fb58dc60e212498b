// OpenID userinfo (GET|POST /v1/userinfo, /oauth2/v3/userinfo): claims depend on granted scopes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import { oauthError, sendJson } from './http.ts';
import { profileClaims } from './jwt.ts';
import { hasEmailScope, hasProfileScope } from './scopes.ts';

/** passport-google-oauth20 sends the token as ?access_token=; others use the Bearer header. */
function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1] ?? url.searchParams.get('access_token') ?? undefined;
}

export function handleUserinfo(ctx: Ctx, req: IncomingMessage, res: ServerResponse, url: URL): void {
  ctx.stats.userinfoRequests++;
  const token = presentedToken(req, url);
  const check = token ? ctx.store.verifyAccess(token) : undefined;
  const account = check?.ok ? ctx.store.account(check.email) : undefined;
  if (!check?.ok || !account) {
    return oauthError(res, 401, 'invalid_request', 'Invalid Credentials', {
      'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
    });
  }
  const body: Record<string, unknown> = { sub: account.sub };
  if (hasProfileScope(check.scopes)) Object.assign(body, profileClaims(account));
  if (hasEmailScope(check.scopes)) Object.assign(body, { email: account.email, email_verified: account.emailVerified });
  sendJson(res, 200, body);
}
