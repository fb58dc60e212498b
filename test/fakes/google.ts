// Fake Google OAuth 2.0 server on loopback for tests, the sandbox and benchmarks (see ./google/).
export { startFakeGoogle } from './google/server.ts';
export { MAIL_SCOPE } from './google/scopes.ts';
import type { FakeGoogle } from './google/types.ts';

/** The app's GOOGLE_* settings pointing at a running fake. */
export function googleEnvOf(google: Pick<FakeGoogle, 'endpoints'>): Record<string, string> {
  const e = google.endpoints;
  return {
    GOOGLE_AUTHORIZATION_URL: e.authorization,
    GOOGLE_TOKEN_URL: e.token,
    GOOGLE_USERINFO_URL: e.userinfo,
    GOOGLE_REVOKE_URL: e.revoke,
  };
}
export type {
  AccessTokenCheck,
  ConsentMode,
  FakeGoogle,
  FakeGoogleAccount,
  FakeGoogleClient,
  FakeGoogleStats,
  IssuedTokens,
  NextAuthorization,
} from './google/types.ts';
