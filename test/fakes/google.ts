// Fake Google OAuth 2.0 server on loopback for tests, the sandbox and benchmarks (see ./google/).
export { startFakeGoogle } from './google/server.ts';
export { MAIL_SCOPE } from './google/scopes.ts';
export type {
  AccessTokenCheck, ConsentMode, FakeGoogle, FakeGoogleAccount, FakeGoogleClient, FakeGoogleStats, IssuedTokens, NextAuthorization,
} from './google/types.ts';
