// The one module that calls Google's OAuth endpoints over HTTP (token refresh, userinfo, revoke, Verify client). Answers are
// zod-validated; failures become GoogleOAuthError, where 5xx, 429 and network failures are transient.
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import type { Config } from '../config.ts';

export const MAIL_SCOPE = 'https://mail.google.com/';
/** What Sign in to Gmail asks for: full IMAP/POP3/SMTP access plus the account's verified address. */
export const GMAIL_SCOPES: readonly string[] = [MAIL_SCOPE, 'openid', 'email'];

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}
export type GoogleEndpoints = Config['google'];

export class GoogleOAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number | undefined,
    readonly transient: boolean,
  ) {
    super(description ? `${error}: ${description}` : error);
    this.name = 'GoogleOAuthError';
  }
}

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().default(''),
  token_type: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

export const userinfoSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  email_verified: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
});
export type Userinfo = z.infer<typeof userinfoSchema>;

const errorBodySchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string().optional(), status: z.string().optional() })]),
  error_description: z.string().optional(),
});

const TRANSIENT_ERRORS = new Set([
  'temporarily_unavailable',
  'internal_failure',
  'server_error',
  'rate_limit_exceeded',
  'backend_error',
]);
const clip = (s: string | undefined, n = 300): string | undefined =>
  s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}…` : s;

export function hasMailScope(scope: string): boolean {
  return scope.split(/\s+/).includes(MAIL_SCOPE);
}

/** Google's error answer (OAuth `{error, error_description}` or API `{error: {message, status}}`) as a typed error. */
export function googleErrorFrom(status: number, body: string): GoogleOAuthError {
  let parsed: z.infer<typeof errorBodySchema> | undefined;
  try {
    parsed = errorBodySchema.safeParse(JSON.parse(body)).data;
  } catch {
    /* not JSON: keep the status only */
  }
  const e = parsed?.error;
  const error = typeof e === 'string' ? e : (e?.status?.toLowerCase() ?? `http_${status}`);
  const description = clip(typeof e === 'string' ? parsed?.error_description : e?.message);
  return new GoogleOAuthError(
    error,
    description,
    status,
    status >= 500 || status === 429 || TRANSIENT_ERRORS.has(error),
  );
}

function networkError(e: unknown): GoogleOAuthError {
  const timeout = (e as { name?: string }).name === 'TimeoutError';
  return new GoogleOAuthError(
    'network_error',
    timeout ? 'Google did not answer in time.' : 'Google could not be reached.',
    undefined,
    true,
  );
}

/** Verify client's verdict on a profile's OAuth client (decision 015). */
export type ClientVerdictResult = 'VALID' | 'INVALID' | 'TEMPORARY' | 'UNREACHABLE' | 'UNEXPECTED';
export interface ClientVerdict {
  result: ClientVerdictResult;
  message: string;
  /** Google's error code, for the audit log. */
  googleError?: string;
}

/** Made up, so Google can never have issued it: a right client gets invalid_grant for it, a wrong one invalid_client. */
export const VERIFY_CLIENT_CODE = 'mailroom-verify-client-not-a-real-code';

/** What Google's answer to the made-up code says about the client (pure: unit-tested). */
export function clientVerdict(e: GoogleOAuthError): ClientVerdict {
  const said = `${e.error}${e.description ? `: ${e.description}` : ''}`;
  const base = { googleError: e.error };
  if (e.error === 'invalid_grant')
    return {
      ...base,
      result: 'VALID',
      message:
        'Google accepted the Client Id and Client Secret (it refused only the made-up sign-in code, as expected).',
    };
  if (e.error === 'invalid_client' || e.description === 'Unauthorized') {
    const unknown = /not found/i.test(e.description ?? '');
    return {
      ...base,
      result: 'INVALID',
      message: unknown
        ? `Google does not know this Client Id (${said}). Copy it again from Google Cloud Console → APIs & Services → Credentials.`
        : `Google refused the Client Secret for this Client Id (${said}). Copy the secret again, or add a new one, in Google Cloud Console → APIs & Services → Credentials.`,
    };
  }
  if (e.error === 'network_error')
    return {
      ...base,
      result: 'UNREACHABLE',
      message: `Google could not be reached (${e.description ?? 'no answer'}), so nothing is known about the client. Check that this server can open HTTPS connections to Google, then verify again.`,
    };
  if (e.transient)
    return {
      ...base,
      result: 'TEMPORARY',
      message: `Google had a temporary problem (${said}), so nothing is known about the client. Verify again in a minute.`,
    };
  return {
    ...base,
    result: 'UNEXPECTED',
    message: `Google answered “${said}”, which says neither that the Client Id and Client Secret are right nor that they are wrong. Check the OAuth client in Google Cloud Console.`,
  };
}

export interface GoogleClient {
  /** A fresh access token from a refresh token (Google may also return a new refresh token). */
  refreshAccessToken(creds: ClientCredentials, refreshToken: string): Promise<TokenResponse>;
  fetchUserinfo(accessToken: string): Promise<Userinfo>;
  /** Revokes the whole grant the token belongs to (either token works; Google kills both). */
  revokeToken(token: string): Promise<void>;
  /** Verify client: the token endpoint with the client's id and secret and a made-up code; never throws. */
  verifyClient(creds: ClientCredentials, redirectUri: string): Promise<ClientVerdict>;
}

/** A request's method, headers and body (a form, or none). */
interface CallInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export function createGoogleClient(endpoints: GoogleEndpoints, opts: { timeoutMs?: number } = {}): GoogleClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // node:http(s) with keep-alive agents rather than undici's fetch: one token request a Test & Enable job, and fetch's
  // WHATWG request/response/stream layers were 7.5 % of the main thread's CPU at C = 50 for that one request (decision
  // 038's profile). The agents keep connections to Google open between requests, as fetch's pool did, so most
  // requests pay no TLS handshake; idle sockets do not keep the process alive (the agent unrefs them). An idle socket
  // is closed after 4 s (undici's default, which fetch had): a server closing its end of an older one while a request
  // is being written on it would turn a healthy refresh into a transient failure and a retry. Secrets travel only in
  // the POST body or the Authorization header, never in the URL.
  const keep = { keepAlive: true, timeout: 4_000 };
  const agents = { 'https:': new https.Agent(keep), 'http:': new http.Agent(keep) };

  function call(url: string, init: CallInit): Promise<{ status: number; text: string }> {
    const u = new URL(url);
    const agent = agents[u.protocol as keyof typeof agents];
    if (!agent) return Promise.reject(networkError(new Error(`unsupported protocol ${u.protocol}`)));
    const signal = AbortSignal.timeout(timeoutMs);
    const headers =
      init.body === undefined
        ? init.headers
        : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    return new Promise((resolve, reject) => {
      const failed = (e: unknown) => reject(networkError(signal.aborted ? signal.reason : e));
      const req = (u.protocol === 'https:' ? https : http).request(
        u,
        { method: init.method, headers, agent, signal },
        (res) => {
          const status = res.statusCode ?? 0;
          // fetch's redirect: 'error': a redirect from Google's endpoints is never followed (it would resend secrets).
          if (status >= 300 && status < 400 && res.headers.location) {
            res.destroy();
            failed(new Error('redirected'));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', failed);
          res.on('close', () => {
            if (!res.complete) failed(new Error('connection closed before the whole answer'));
          });
          res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', failed);
      req.end(init.body);
    });
  }

  async function json<T>(url: string, init: CallInit, schema: z.ZodType<T>): Promise<T> {
    const { status, text } = await call(url, init);
    if (status < 200 || status > 299) throw googleErrorFrom(status, text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new GoogleOAuthError(
        'invalid_response',
        'Google answered with something that is not the expected JSON.',
        status,
        true,
      );
    return parsed.data;
  }

  const form = (fields: Record<string, string>): CallInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });

  return {
    refreshAccessToken: (creds, refreshToken) =>
      json(
        endpoints.tokenUrl,
        form({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: creds.clientId,
          client_secret: creds.clientSecret,
        }),
        tokenResponseSchema,
      ),
    fetchUserinfo: (accessToken) =>
      json(
        endpoints.userinfoUrl,
        { method: 'GET', headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } },
        userinfoSchema,
      ),
    async revokeToken(token) {
      const { status, text } = await call(endpoints.revokeUrl, form({ token }));
      if (status < 200 || status > 299) throw googleErrorFrom(status, text);
    },
    async verifyClient(creds, redirectUri) {
      let answer: { status: number; text: string };
      try {
        answer = await call(
          endpoints.tokenUrl,
          form({
            grant_type: 'authorization_code',
            code: VERIFY_CLIENT_CODE,
            redirect_uri: redirectUri,
            client_id: creds.clientId,
            client_secret: creds.clientSecret,
          }),
        );
      } catch (e) {
        return clientVerdict(e as GoogleOAuthError);
      }
      if (answer.status >= 200 && answer.status < 300)
        return {
          result: 'UNEXPECTED',
          message: 'Google accepted a made-up sign-in code: the Token URL may not be Google’s. Check GOOGLE_TOKEN_URL.',
        };
      return clientVerdict(googleErrorFrom(answer.status, answer.text));
    },
  };
}
