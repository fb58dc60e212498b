// What a mailbox's Gmail sign-in is worth now, for the record's Gmail panel and the list: whether Google refused it
// (the grant needs Sign in to Gmail again, set when a refresh answered invalid_grant), and, for a Google app in
// Testing status, how long its refresh token has left of the 7 days Google gives it.
import { FAILURE_CODES, failure, type FailureCode } from '../mail/hints.ts';

/** Google expires refresh tokens of an app in Testing publishing status 7 days after they were issued. */
export const TESTING_TOKEN_DAYS = 7;
const DAY_MS = 86_400_000;

export interface GrantState {
  signInRequiredAt: Date | null;
  signInRequiredCode: string | null;
  refreshTokenIssuedAt: Date | null;
  hasRefreshToken: boolean;
}

export interface SignInRequired {
  since: Date;
  code: string;
  hint: string;
}

export function signInRequired(g: Pick<GrantState, 'signInRequiredAt' | 'signInRequiredCode'>): SignInRequired | null {
  if (!g.signInRequiredAt) return null;
  const code = g.signInRequiredCode ?? 'TOKEN_REVOKED';
  const hint = (FAILURE_CODES as string[]).includes(code)
    ? failure(code as FailureCode).hint
    : 'Select Sign in to Gmail again, then Test & Enable Mailbox.';
  return { since: g.signInRequiredAt, code, hint };
}

export interface TestingExpiry {
  expiresAt: Date;
  /** Whole days left, rounded up (0 once expired). */
  daysLeft: number;
  expired: boolean;
  /** Less than a day left: the alert is due. */
  lastDay: boolean;
}

/** The refresh token's end under Testing status; null when the app is published or nothing is known. */
export function testingExpiry(
  inTesting: boolean,
  g: Pick<GrantState, 'refreshTokenIssuedAt' | 'hasRefreshToken' | 'signInRequiredAt'>,
  now = new Date(),
): TestingExpiry | null {
  if (!inTesting || !g.hasRefreshToken || !g.refreshTokenIssuedAt || g.signInRequiredAt) return null;
  const expiresAt = new Date(g.refreshTokenIssuedAt.getTime() + TESTING_TOKEN_DAYS * DAY_MS);
  const left = expiresAt.getTime() - now.getTime();
  return {
    expiresAt,
    daysLeft: Math.max(0, Math.ceil(left / DAY_MS)),
    expired: left <= 0,
    lastDay: left < DAY_MS,
  };
}

/** "3 days left", "1 day left", "expired": the list's and the panel's short words for a Testing expiry. */
export function testingLabel(e: TestingExpiry): string {
  if (e.expired) return 'Sign-in expired (Testing app)';
  return `${e.daysLeft} ${e.daysLeft === 1 ? 'day' : 'days'} left (Testing app)`;
}
