// Public types of the fake Google OAuth 2.0 server used by tests, the sandbox and benchmarks.

export interface FakeGoogleAccount {
  email: string;
  /** Default true. */
  emailVerified?: boolean;
  /** Returned only when the `profile` scope was granted, as Google does. */
  name?: string;
  /** Default: a stable 21-digit number derived from the email. */
  sub?: string;
  picture?: string;
}

export interface FakeGoogleClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** App name shown on the consent page; defaults to the client ID. */
  name?: string;
}

export type ConsentMode = 'auto' | 'page';

/** One scripted answer for the next completed authorization (FIFO queue, each used once). */
export interface NextAuthorization {
  /** Answer `error=access_denied` (or `error` below). */
  deny?: boolean;
  /** Any other error code to redirect with, e.g. `admin_policy_enforced`. */
  error?: string;
  error_description?: string;
  /** Sign in as this account whatever the login_hint or the page choice (added if unknown). */
  accountEmail?: string;
  /** Grant exactly these scopes (e.g. leave out https://mail.google.com/ as if unticked). */
  grantScopes?: string[];
}

export type AccessTokenCheck =
  | { ok: true; email: string; scopes: string[] }
  | { ok: false; reason: 'invalid' | 'expired' | 'revoked' };

export interface FakeGoogleStats {
  /** Every request to the authorization endpoint, valid or not. */
  authorizations: number;
  /** Every request to the token endpoint, including injected failures. */
  tokenRequests: number;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Successful calls to the revoke endpoint. */
  revocations: number;
  userinfoRequests: number;
  /** Every request to the tokeninfo endpoint (Dovecot's oauth2 passdb asks it at each bearer login). */
  tokeninfoRequests: number;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export interface FakeGoogle {
  url: string;
  endpoints: { authorization: string; token: string; userinfo: string; revoke: string; tokeninfo: string };
  addClient(c: FakeGoogleClient): void;
  addAccount(a: FakeGoogleAccount): void;
  setConsentMode(mode: ConsentMode): void;
  nextAuthorization(o: NextAuthorization): void;
  failTokenEndpoint(times: number, status?: number): void;
  setTokenDelayMs(ms: number): void;
  /** When on, each refresh returns a new refresh_token and invalidates the one used. */
  rotateRefreshTokens(on: boolean): void;
  revokeAllFor(email: string): void;
  /** Returns false when the token is unknown. */
  expireAccessToken(token: string): boolean;
  /** Moves the fake's clock forward (codes live 10 min, access tokens 3599 s). */
  advanceTime(ms: number): void;
  verifyAccessToken(token: string): AccessTokenCheck;
  stats(): FakeGoogleStats;
  lastAuthorizationRequest(): Record<string, string> | undefined;
  issueTokensFor(email: string, clientId: string, opts?: { scopes?: string[] }): IssuedTokens;
  close(): Promise<void>;
}
