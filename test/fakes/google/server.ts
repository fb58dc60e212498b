// startFakeGoogle(): the fake's HTTP server on loopback, its routes and the test controls.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ctx } from './context.ts';
import type { FakeGoogle } from './types.ts';
import { handleAuthorize, handleConsent } from './authorize.ts';
import { BodyTooLarge, sendJson } from './http.ts';
import { CONSENT_PATH } from './pages.ts';
import { handleRevoke } from './revoke.ts';
import { ACCESS_TOKEN_SECONDS, Store } from './store.ts';
import { handleToken } from './token.ts';
import { handleTokeninfo } from './tokeninfo.ts';
import { handleUserinfo } from './userinfo.ts';

type Handler = (ctx: Ctx, req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

const authorize: Handler = (ctx, _req, res, url) => handleAuthorize(ctx, res, url);
const consent: Handler = (ctx, req, res) => handleConsent(ctx, req, res);
const token: Handler = (ctx, req, res) => handleToken(ctx, req, res);

const ROUTES: Record<string, Record<string, Handler>> = {
  '/o/oauth2/v2/auth': { GET: authorize },
  '/o/oauth2/auth': { GET: authorize },
  [CONSENT_PATH]: { POST: consent },
  '/token': { POST: token },
  '/o/oauth2/token': { POST: token },
  '/v1/userinfo': { GET: handleUserinfo, POST: handleUserinfo },
  '/oauth2/v3/userinfo': { GET: handleUserinfo, POST: handleUserinfo },
  '/tokeninfo': { GET: handleTokeninfo, POST: handleTokeninfo },
  '/oauth2/v3/tokeninfo': { GET: handleTokeninfo, POST: handleTokeninfo },
  '/revoke': { POST: handleRevoke, GET: handleRevoke },
  '/o/oauth2/revoke': { POST: handleRevoke, GET: handleRevoke },
};

function discovery(base: string): Record<string, unknown> {
  return {
    issuer: 'https://accounts.google.com',
    authorization_endpoint: `${base}/o/oauth2/v2/auth`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/v1/userinfo`,
    revocation_endpoint: `${base}/revoke`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  };
}

export async function startFakeGoogle(opts: { port?: number; host?: string } = {}): Promise<FakeGoogle> {
  const host = opts.host ?? '127.0.0.1';
  const timers = new Set<NodeJS.Timeout>();
  const ctx: Ctx = {
    store: new Store(),
    consentMode: 'auto',
    next: [],
    stats: {
      authorizations: 0,
      tokenRequests: 0,
      refreshes: 0,
      revocations: 0,
      userinfoRequests: 0,
      tokeninfoRequests: 0,
    },
    failures: { remaining: 0, status: 500 },
    tokenDelayMs: 0,
    rotate: false,
    pending: new Map(),
    sleep: (ms) =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, ms);
        timers.add(t);
      }),
  };
  let base = '';

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/.well-known/openid-configuration' && req.method === 'GET')
      return sendJson(res, 200, discovery(base));
    const methods = ROUTES[url.pathname];
    const handler = methods?.[req.method ?? ''];
    if (handler) return handler(ctx, req, res, url);
    res.writeHead(methods ? 405 : 404, methods ? { allow: Object.keys(methods).join(', ') } : {});
    res.end(methods ? 'Method Not Allowed' : 'Not Found');
  }

  // Never log requests: they carry codes and tokens.
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const tooLarge = err instanceof BodyTooLarge;
      res.writeHead(tooLarge ? 413 : 500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        tooLarge
          ? 'Payload Too Large'
          : `Fake Google internal error: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: base,
    endpoints: {
      authorization: `${base}/o/oauth2/v2/auth`,
      token: `${base}/token`,
      userinfo: `${base}/v1/userinfo`,
      revoke: `${base}/revoke`,
      tokeninfo: `${base}/tokeninfo`,
    },
    addClient: (c) => ctx.store.addClient(c),
    addAccount: (a) => void ctx.store.addAccount(a),
    setConsentMode: (mode) => {
      ctx.consentMode = mode;
    },
    nextAuthorization: (o) => void ctx.next.push({ ...o }),
    failTokenEndpoint: (times, status = 500) => {
      ctx.failures = { remaining: times, status };
    },
    setTokenDelayMs: (ms) => {
      ctx.tokenDelayMs = ms;
    },
    rotateRefreshTokens: (on) => {
      ctx.rotate = on;
    },
    revokeAllFor: (email) => ctx.store.revokeAllFor(email),
    expireAccessToken: (t) => ctx.store.expireAccess(t),
    advanceTime: (ms) => ctx.store.advance(ms),
    verifyAccessToken: (t) => ctx.store.verifyAccess(t),
    stats: () => ({ ...ctx.stats }),
    lastAuthorizationRequest: () => (ctx.lastAuth ? { ...ctx.lastAuth } : undefined),
    issueTokensFor(email, clientId, o = {}) {
      if (!ctx.store.clients.has(clientId)) throw new Error(`issueTokensFor: unknown client ${clientId}`);
      if (!ctx.store.account(email)) throw new Error(`issueTokensFor: unknown account ${email}`);
      const { grant, scopes } = ctx.store.consent(
        email,
        clientId,
        o.scopes ?? ['openid', 'email', 'https://mail.google.com/'],
      );
      const minted = ctx.store.mint(grant, scopes, true);
      return {
        access_token: minted.access_token,
        refresh_token: minted.refresh_token ?? '',
        expires_in: ACCESS_TOKEN_SECONDS,
      };
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
