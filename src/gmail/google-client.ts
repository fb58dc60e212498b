// The one module that calls Google's OAuth endpoints over HTTP (token refresh, userinfo, revoke, Verify client). Answers are
// zod-validated; failures become GoogleOAuthError, where 5xx, 429 and network failures are transient.
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

export function createGoogleClient(endpoints: GoogleEndpoints, opts: { timeoutMs?: number } = {}): GoogleClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;

  async function call(url: string, init: RequestInit): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, text: await res.text() };
    } catch (e) {
      throw networkError(e);
    }
  }

  async function json<T>(url: string, init: RequestInit, schema: z.ZodType<T>): Promise<T> {
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

  const form = (fields: Record<string, string>): RequestInit => ({
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
