// Authorization endpoint (GET /o/oauth2/v2/auth) and the consent form's answer (POST).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx, PendingAuthorization } from './context.ts';
import { readBody, redirect, sendHtml } from './http.ts';
import { consentPage, errorPage } from './pages.ts';
import { isBasicScope, splitScope } from './scopes.ts';

const PENDING_TTL_MS = 60 * 60_000;
const PROMPTS = new Set(['none', 'consent', 'select_account']);

type Problem = { status: number; error: string; message: string; details?: Record<string, string> };

const missing = (name: string): Problem => ({
  status: 400,
  error: 'invalid_request',
  message: `Missing required parameter: ${name}`,
});

/** Same order as Google: client, then redirect_uri; until both pass, nothing may redirect. */
function validate(ctx: Ctx, q: URLSearchParams): PendingAuthorization | Problem {
  const clientId = q.get('client_id');
  if (!clientId) return missing('client_id');
  const client = ctx.store.clients.get(clientId);
  if (!client)
    return {
      status: 401,
      error: 'invalid_client',
      message: 'The OAuth client was not found.',
      details: { client_id: clientId },
    };
  const redirectUri = q.get('redirect_uri');
  if (!redirectUri) return missing('redirect_uri');
  if (!client.redirectUris.includes(redirectUri)) {
    return {
      status: 400,
      error: 'redirect_uri_mismatch',
      details: { redirect_uri: redirectUri, flowName: 'GeneralOAuthFlow' },
      message:
        'You can’t sign in to this app because it doesn’t comply with Google’s OAuth 2.0 policy. If you’re the app developer, register the redirect URI in the Google Cloud Console.',
    };
  }
  const responseType = q.get('response_type');
  if (!responseType) return missing('response_type');
  if (responseType !== 'code')
    return { status: 400, error: 'unsupported_response_type', message: `Invalid response_type: ${responseType}` };
  const scope = q.get('scope');
  if (!scope) return missing('scope');
  const { scopes, invalid } = splitScope(scope);
  if (invalid.length)
    return {
      status: 400,
      error: 'invalid_scope',
      message: `Some requested scopes were invalid. {invalid=[${invalid.join(', ')}]}`,
    };
  // Google tolerates a missing state or PKCE; the fake insists because the app must send them.
  const state = q.get('state');
  if (!state) return missing('state');
  const challenge = q.get('code_challenge');
  if (!challenge) return missing('code_challenge');
  if (q.get('code_challenge_method') !== 'S256')
    return {
      status: 400,
      error: 'invalid_request',
      message: `Invalid code_challenge_method: ${q.get('code_challenge_method') ?? '(missing, means plain)'}; the fake requires S256`,
    };
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    return { status: 400, error: 'invalid_request', message: 'Invalid code_challenge.' };
  const accessType = q.get('access_type') ?? 'online';
  if (accessType !== 'online' && accessType !== 'offline')
    return { status: 400, error: 'invalid_request', message: `Invalid access_type: ${accessType}` };
  const prompt = new Set((q.get('prompt') ?? '').split(' ').filter(Boolean));
  if ([...prompt].some((p) => !PROMPTS.has(p)) || (prompt.has('none') && prompt.size > 1)) {
    return { status: 400, error: 'invalid_request', message: `Invalid prompt: ${q.get('prompt')}` };
  }
  return {
    clientId,
    redirectUri,
    state,
    scopes,
    challenge,
    offline: accessType === 'offline',
    prompt,
    loginHint: q.get('login_hint') || undefined,
    nonce: q.get('nonce') || undefined,
    includeGranted: q.get('include_granted_scopes') === 'true',
    createdAt: ctx.store.now(),
  };
}

/** Google's spelling: `+` for spaces and bare `:`/`/` in scope; everything else percent-encoded. */
function callbackUrl(uri: string, params: Array<[string, string]>): string {
  const enc = (k: string, v: string): string =>
    k !== 'scope'
      ? encodeURIComponent(v)
      : encodeURIComponent(v).replace(/%20/g, '+').replace(/%3A/gi, ':').replace(/%2F/gi, '/');
  return uri + (uri.includes('?') ? '&' : '?') + params.map(([k, v]) => `${k}=${enc(k, v)}`).join('&');
}

function complete(
  ctx: Ctx,
  res: ServerResponse,
  p: PendingAuthorization,
  choice: { email?: string; scopes?: string[]; cancel?: boolean },
): void {
  const { store } = ctx;
  const next = ctx.next.shift();
  if (choice.cancel || next?.deny || next?.error) {
    const params: Array<[string, string]> = [['error', next?.error ?? 'access_denied']];
    if (next?.error_description) params.push(['error_description', next.error_description]);
    return redirect(res, callbackUrl(p.redirectUri, [...params, ['state', p.state]]));
  }
  const hinted = p.loginHint ? store.account(p.loginHint)?.email : undefined;
  const email = next?.accountEmail ?? choice.email ?? hinted ?? store.allAccounts()[0]?.email;
  if (!email)
    return sendHtml(
      res,
      400,
      errorPage({
        status: 400,
        error: 'invalid_request',
        message: 'The fake Google has no accounts: call addAccount() first.',
      }),
    );
  if (!store.account(email)) store.addAccount({ email });
  if (p.prompt.has('none') && !store.activeGrant(email, p.clientId)) {
    return redirect(
      res,
      callbackUrl(p.redirectUri, [
        ['error', 'consent_required'],
        ['state', p.state],
      ]),
    );
  }
  const { grant, first, scopes } = store.consent(
    email,
    p.clientId,
    next?.grantScopes ?? choice.scopes ?? p.scopes,
    p.includeGranted,
  );
  const consentShown = first || p.prompt.has('consent');
  const code = store.createCode({
    grant,
    clientId: p.clientId,
    redirectUri: p.redirectUri,
    scopes,
    challenge: p.challenge,
    issueRefresh: p.offline && consentShown,
    nonce: p.nonce,
  });
  redirect(
    res,
    callbackUrl(p.redirectUri, [
      ['state', p.state],
      ['code', code],
      ['scope', scopes.join(' ')],
      ['authuser', '0'],
      ['prompt', consentShown ? 'consent' : 'none'],
    ]),
  );
}

function renderConsent(
  ctx: Ctx,
  res: ServerResponse,
  id: string,
  p: PendingAuthorization,
  status = 200,
  error?: string,
): void {
  const client = ctx.store.clients.get(p.clientId);
  sendHtml(
    res,
    status,
    consentPage({
      requestId: id,
      appName: client?.name ?? p.clientId,
      accounts: ctx.store.allAccounts(),
      selectedEmail: p.loginHint && ctx.store.account(p.loginHint) ? p.loginHint : undefined,
      requestedScopes: p.scopes,
      error,
    }),
  );
}

export function handleAuthorize(ctx: Ctx, res: ServerResponse, url: URL): void {
  ctx.stats.authorizations++;
  ctx.lastAuth = Object.fromEntries(url.searchParams);
  const v = validate(ctx, url.searchParams);
  if ('error' in v) return sendHtml(res, v.status, errorPage(v));
  if (ctx.consentMode === 'auto' || v.prompt.has('none')) return complete(ctx, res, v, {});
  const now = ctx.store.now();
  for (const [id, old] of ctx.pending) if (now - old.createdAt > PENDING_TTL_MS) ctx.pending.delete(id);
  const id = randomBytes(18).toString('base64url');
  ctx.pending.set(id, v);
  renderConsent(ctx, res, id, v);
}

export async function handleConsent(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = new URLSearchParams(await readBody(req));
  const id = form.get('request_id') ?? '';
  const p = ctx.pending.get(id);
  if (!p || ctx.store.now() - p.createdAt > PENDING_TTL_MS) {
    return sendHtml(
      res,
      400,
      errorPage({
        status: 400,
        error: 'invalid_request',
        message: 'This consent request expired or was already answered. Start again from the app.',
      }),
    );
  }
  const decision = form.get('decision');
  if (decision === 'cancel') {
    ctx.pending.delete(id);
    return complete(ctx, res, p, { cancel: true });
  }
  if (decision !== 'allow') return renderConsent(ctx, res, id, p, 400, 'Choose Allow or Cancel.');
  const email = form.get('account') ?? '';
  if (!ctx.next[0]?.accountEmail && !ctx.store.account(email))
    return renderConsent(ctx, res, id, p, 400, 'Choose an account.');
  const ticked = new Set(form.getAll('scope'));
  ctx.pending.delete(id);
  complete(ctx, res, p, {
    email: email || undefined,
    scopes: p.scopes.filter((s) => isBasicScope(s) || ticked.has(s)),
  });
}
