// A GoogleStrategy built per request for one profile's OAuth client, and the two passport calls of Sign in to Gmail:
// start (redirect to Google's consent screen) and finish (verify state, exchange the code with its PKCE verifier,
// load userinfo). Only passport-oauth2's documented overrides are used: parseErrorResponse and userProfile.
import type { Request, Response, NextFunction } from 'express';
import { Passport } from 'passport';
import type { StateStore } from 'passport-oauth2';
import {
  Strategy as GoogleStrategy,
  type AuthenticateOptionsGoogle,
  type GoogleCallbackParameters,
  type Profile,
  type VerifyCallback,
} from 'passport-google-oauth20';
import type { Config } from '../config.ts';
import { gmailRedirectUri } from '../profiles/redirect-uri.ts';
import {
  GMAIL_SCOPES,
  GoogleOAuthError,
  googleErrorFrom,
  tokenResponseSchema,
  userinfoSchema,
  type ClientCredentials,
  type GoogleClient,
  type TokenResponse,
  type Userinfo,
} from './google-client.ts';

/** What a finished flow yields. Holds tokens: never log or render it. */
export interface GmailAccount {
  token: TokenResponse;
  userinfo: Userinfo;
}

export class FlowStateError extends Error {}

/** passport-oauth2's state store with PKCE: store(req, verifier, state, meta, cb) and verify(req, state, cb). */
export interface PkceStateStore {
  store(
    req: Request,
    verifier: string,
    state: unknown,
    meta: unknown,
    cb: (err: Error | null, handle?: string) => void,
  ): void;
  verify(
    req: Request,
    state: string,
    cb: (err: Error | null, verifier: string | false, info?: { message: string }) => void,
  ): void;
}

// Sign in to Gmail never logs anyone in: it only needs passport's authenticate() machinery, with no registered strategy.
const passport = new Passport();

export function gmailStrategy(
  config: Config,
  google: GoogleClient,
  creds: ClientCredentials,
  store: PkceStateStore,
): GoogleStrategy {
  const strategy = new GoogleStrategy(
    {
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
      // The published StateStore type lacks the PKCE arities passport-oauth2 calls (see PkceStateStore).
      store: store as unknown as StateStore,
    },
    (
      accessToken: string,
      refreshToken: string,
      params: GoogleCallbackParameters,
      profile: Profile,
      done: VerifyCallback,
    ) => {
      const token = tokenResponseSchema.safeParse({
        ...params,
        access_token: accessToken,
        refresh_token: refreshToken || undefined,
      });
      const userinfo = userinfoSchema.safeParse(profile); // what userProfile below loaded
      if (!token.success || !userinfo.success) {
        return done(
          new GoogleOAuthError(
            'invalid_response',
            'Google answered with something that is not the expected token or userinfo JSON.',
            undefined,
            true,
          ),
        );
      }
      done(null, { token: token.data, userinfo: userinfo.data } satisfies GmailAccount);
    },
  );
  // Token endpoint errors become GoogleOAuthError; userinfo comes from the one Google client (token in a header).
  strategy.parseErrorResponse = (body: unknown, status: number) => googleErrorFrom(status, String(body));
  strategy.userProfile = (accessToken, done) => {
    google.fetchUserinfo(accessToken).then(
      (u) => done(null, u),
      (e: unknown) => done(e),
    );
  };
  return strategy;
}

/** Redirects to Google's consent screen; the state store records the pending flow in the session first. */
export function startGmailFlow(
  strategy: GoogleStrategy,
  loginHint: string | undefined,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  const options: AuthenticateOptionsGoogle = {
    accessType: 'offline',
    prompt: 'consent',
    scope: [...GMAIL_SCOPES],
    session: false,
    ...(loginHint ? { loginHint } : {}),
  };
  passport.authenticate(strategy, options)(req, res, next);
}

/** Verifies state, exchanges the code (with the PKCE verifier) and loads userinfo. */
export function finishGmailFlow(strategy: GoogleStrategy, req: Request, res: Response): Promise<GmailAccount> {
  return new Promise((resolve, reject) => {
    // `account` is what the verify callback above handed to done(): zod-checked there.
    const finished = (err: unknown, account: GmailAccount | false | undefined) => {
      if (err) return reject(asGoogleOAuthError(err) ?? err);
      return account ? resolve(account) : reject(new FlowStateError('The state did not verify'));
    };
    passport.authenticate(strategy, { session: false }, finished)(req, res, reject);
  });
}

/** passport-oauth2 / passport-google-oauth20 failures as GoogleOAuthError; a failed state check as FlowStateError. */
function asGoogleOAuthError(e: unknown): Error | undefined {
  if (e instanceof GoogleOAuthError) return e;
  const x = e as {
    name?: string;
    code?: string;
    message?: string;
    oauthError?: { statusCode?: number; data?: unknown };
  };
  switch (x?.name) {
    case 'AuthenticationError':
      return new FlowStateError(x.message);
    case 'InternalOAuthError': {
      const o = x.oauthError;
      if (o && !(o instanceof Error) && o.statusCode) return googleErrorFrom(o.statusCode, String(o.data ?? ''));
      return new GoogleOAuthError('network_error', 'Google could not be reached.', undefined, true);
    }
    case 'TokenError':
    case 'UserInfoError':
    case 'GooglePlusAPIError':
      return new GoogleOAuthError(x.code ?? 'invalid_response', x.message, undefined, false);
    default:
      return undefined;
  }
}
