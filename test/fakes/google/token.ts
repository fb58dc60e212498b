// Token endpoint (POST /token): authorization_code with PKCE, refresh_token, Google's error bodies (client
// authentication first: an unknown client or a wrong secret is invalid_client whatever the grant says).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx } from './context.ts';
import type { Grant, Minted } from './store.ts';
import type { FakeGoogleClient } from './types.ts';
import { basicCredentials, oauthError, parseParams, readBody, sendJson } from './http.ts';
import { idToken } from './jwt.ts';
import { hasOpenId } from './scopes.ts';

const INJECTED: Record<number, [string, string]> = {
  429: ['rate_limit_exceeded', 'Rate Limit Exceeded'],
  503: ['temporarily_unavailable', 'The service is currently unavailable.'],
};

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function authenticate(
  ctx: Ctx,
  req: IncomingMessage,
  params: URLSearchParams,
  res: ServerResponse,
): FakeGoogleClient | undefined {
  const basic = basicCredentials(req.headers.authorization);
  const id = basic?.id ?? params.get('client_id');
  const secret = basic?.secret ?? params.get('client_secret') ?? '';
  if (!id) return void oauthError(res, 400, 'invalid_request', 'Could not determine client ID from request.');
  const client = ctx.store.clients.get(id);
  if (!client) return void oauthError(res, 401, 'invalid_client', 'The OAuth client was not found.');
  if (!sameText(secret, client.clientSecret)) return void oauthError(res, 401, 'invalid_client', 'Unauthorized');
  return client;
}

/** Field order as Google sends it. */
function tokenBody(
  ctx: Ctx,
  client: FakeGoogleClient,
  grant: Grant,
  minted: Minted,
  scopes: string[],
  nonce?: string,
): Record<string, unknown> {
  const body: Record<string, unknown> = { access_token: minted.access_token, expires_in: minted.expires_in };
  if (minted.refresh_token) body.refresh_token = minted.refresh_token;
  Object.assign(body, { scope: scopes.join(' '), token_type: 'Bearer' });
  const account = ctx.store.account(grant.email);
  if (account && hasOpenId(scopes)) {
    body.id_token = idToken({
      account,
      clientId: client.clientId,
      secret: client.clientSecret,
      scopes,
      nonce,
      nowMs: ctx.store.now(),
    });
  }
  return body;
}

function exchangeCode(ctx: Ctx, client: FakeGoogleClient, params: URLSearchParams, res: ServerResponse): void {
  const code = params.get('code');
  if (!code) return oauthError(res, 400, 'invalid_request', 'Missing required parameter: code');
  // Google answers a code it could never have issued this way, once the client has authenticated (Verify client
  // relies on that order: invalid_client first, then invalid_grant).
  if (!/^4\/0A[A-Za-z0-9_-]+$/.test(code)) return oauthError(res, 400, 'invalid_grant', 'Malformed auth code.');
  const rec = ctx.store.liveCode(code);
  if (!rec || rec.clientId !== client.clientId) return oauthError(res, 400, 'invalid_grant', 'Bad Request');
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return oauthError(res, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
  if (redirectUri !== rec.redirectUri) return oauthError(res, 400, 'redirect_uri_mismatch', 'Bad Request');
  const verifier = params.get('code_verifier');
  if (!verifier) return oauthError(res, 400, 'invalid_grant', 'Missing code verifier.');
  if (!sameText(createHash('sha256').update(verifier).digest('base64url'), rec.challenge)) {
    return oauthError(res, 400, 'invalid_grant', 'Invalid code verifier.');
  }
  rec.used = true;
  const minted = ctx.store.mint(rec.grant, rec.scopes, rec.issueRefresh);
  sendJson(res, 200, tokenBody(ctx, client, rec.grant, minted, rec.scopes, rec.nonce));
}

function refresh(ctx: Ctx, client: FakeGoogleClient, params: URLSearchParams, res: ServerResponse): void {
  const token = params.get('refresh_token');
  if (!token) return oauthError(res, 400, 'invalid_request', 'Missing required parameter: refresh_token');
  const rec = ctx.store.liveRefresh(token);
  if (!rec) return oauthError(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
  if (rec.grant.clientId !== client.clientId) return oauthError(res, 401, 'unauthorized_client', 'Unauthorized');
  if (ctx.rotate) ctx.store.retireRefresh(token);
  const minted = ctx.store.mint(rec.grant, rec.scopes, ctx.rotate);
  ctx.stats.refreshes++;
  sendJson(res, 200, tokenBody(ctx, client, rec.grant, minted, rec.scopes));
}

export async function handleToken(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.stats.tokenRequests++;
  const raw = await readBody(req);
  if (ctx.tokenDelayMs > 0) await ctx.sleep(ctx.tokenDelayMs);
  if (ctx.failures.remaining > 0) {
    ctx.failures.remaining--;
    const [error, description] = INJECTED[ctx.failures.status] ?? ['internal_failure', 'Internal error encountered.'];
    return oauthError(res, ctx.failures.status, error, description);
  }
  const params = parseParams(req, raw);
  const client = authenticate(ctx, req, params, res);
  if (!client) return;
  const grantType = params.get('grant_type') ?? '';
  if (grantType === 'authorization_code') return exchangeCode(ctx, client, params, res);
  if (grantType === 'refresh_token') return refresh(ctx, client, params, res);
  oauthError(res, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
}
