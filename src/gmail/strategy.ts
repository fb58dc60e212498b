// A GoogleStrategy built per request for one profile's OAuth client, and the passport.authorize calls that start
// and finish Sign in to Gmail. authorize (not authenticate) keeps the signed-in Mailroom user as they are.
import type { Request, Response, RequestHandler } from 'express';
import type { Authenticator } from 'passport';
import type { StateStore } from 'passport-oauth2';
import {
  Strategy as GoogleStrategy, type AuthenticateOptionsGoogle, type GoogleCallbackParameters, type Profile, type VerifyCallback,
} from 'passport-google-oauth20';
import type { Config } from '../config.ts';
import { gmailRedirectUri } from '../profiles/redirect-uri.ts';
import type { GmailFlowStore } from './flow-store.ts';
import {
  GMAIL_SCOPES, GoogleOAuthError, googleErrorFrom, tokenResponseSchema, userinfoSchema,
  type ClientCredentials, type TokenResponse, type Userinfo,
} from './google-client.ts';

/** What a finished flow yields (in req.account). Holds tokens: never log or render it. */
export interface GmailAccount { token: TokenResponse; userinfo: Userinfo }

export class FlowStateError extends Error {}

export function gmailStrategy(config: Config, creds: ClientCredentials, store: GmailFlowStore): GoogleStrategy {
  const strategy = new GoogleStrategy({
    clientID: creds.clientId,
    clientSecret: creds.clientSecret,
    // Absolute, from PUBLIC_URL: passport would otherwise derive a relative one from Host / X-Forwarded-Host.
    callbackURL: gmailRedirectUri(config.publicUrl),
    authorizationURL: config.google.authorizationUrl,
    tokenURL: config.google.tokenUrl,
    userProfileURL: config.google.userinfoUrl,
    scope: [...GMAIL_SCOPES],
    pkce: true,
    state: true,
    store: store as unknown as StateStore,
  }, (accessToken: string, refreshToken: string, params: GoogleCallbackParameters, profile: Profile, done: VerifyCallback) => {
    const token = tokenResponseSchema.safeParse({ ...params, access_token: accessToken, refresh_token: refreshToken || undefined });
    const userinfo = userinfoSchema.safeParse(profile._json);
    if (!token.success || !userinfo.success) {
      return done(new GoogleOAuthError('invalid_response', 'Google answered with something that is not the expected token or userinfo JSON.', undefined, true));
    }
    done(null, { token: token.data, userinfo: userinfo.data } satisfies GmailAccount as unknown as Express.User);
  });
  // Token endpoint errors become GoogleOAuthError; userinfo gets the token in a header, not the query string.
  strategy.parseErrorResponse = (body: unknown, status: number) => googleErrorFrom(status, String(body));
  (strategy as unknown as { _oauth2: { useAuthorizationHeaderforGET(on: boolean): void } })._oauth2.useAuthorizationHeaderforGET(true);
  return strategy;
}

/** Redirects to Google's consent screen (the state store records the pending flow in the session). */
export function startGmailFlow(passport: Authenticator, strategy: GoogleStrategy, loginHint: string | undefined): RequestHandler {
  const options: AuthenticateOptionsGoogle = { accessType: 'offline', prompt: 'consent', scope: [...GMAIL_SCOPES], ...(loginHint ? { loginHint } : {}) };
  return passport.authorize(strategy as never, options) as RequestHandler;
}

/** Verifies state, exchanges the code (with the PKCE verifier) and loads userinfo; resolves with req.account. */
export function finishGmailFlow(passport: Authenticator, strategy: GoogleStrategy, req: Request, res: Response): Promise<GmailAccount> {
  return new Promise((resolve, reject) => {
    const handler = passport.authorize(strategy as never, { failWithError: true }) as RequestHandler;
    void handler(req, res, (err?: unknown) => {
      if (err) return reject(asGoogleOAuthError(err) ?? err);
      const account = (req as Request & { account?: GmailAccount }).account;
      return account ? resolve(account) : reject(new FlowStateError('No account'));
    });
  });
}

/** passport-oauth2 / passport-google-oauth20 failures as GoogleOAuthError; a failed state check as FlowStateError. */
function asGoogleOAuthError(e: unknown): Error | undefined {
  if (e instanceof GoogleOAuthError) return e;
  const x = e as { name?: string; code?: string; message?: string; oauthError?: { statusCode?: number; data?: unknown } };
  switch (x?.name) {
    case 'AuthenticationError': return new FlowStateError(x.message);
    case 'InternalOAuthError': {
      const o = x.oauthError;
      if (o && !(o instanceof Error) && o.statusCode) return googleErrorFrom(o.statusCode, String(o.data ?? ''));
      return new GoogleOAuthError('network_error', 'Google could not be reached.', undefined, true);
    }
    case 'TokenError': case 'UserInfoError': case 'GooglePlusAPIError':
      return new GoogleOAuthError(x.code ?? 'invalid_response', x.message, undefined, false);
    default: return undefined;
  }
}
