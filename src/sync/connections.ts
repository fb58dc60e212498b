// Which connection budgets a mail-server connection counts against (docs/decisions/022): the profile's Maximum
// Concurrent Connections, counted per profile across every process, plus Gmail's 15 IMAP connections per account.
// Test & Enable (checks/run.ts) and synchronization both take their slots with these claims from one semaphore
// (startCluster(...).semaphore), so together they never exceed either limit. This is the one place that names keys.
import type { SlotClaim } from '../cluster/semaphore.ts';

/** Gmail's limit of simultaneous IMAP connections per account (also a safe cap for other servers). */
export const IMAP_CONNECTIONS_PER_ACCOUNT = 15;

export interface ConnectionTarget {
  profileId: string;
  /** The profile's Maximum Concurrent Connections (a function is re-read at every attempt, so a change holds). */
  maxConcurrentConnections: number | (() => number | Promise<number>);
  protocol: 'imap' | 'pop3' | 'smtp';
  /** The server and the login the connection authenticates as (the Google account, or the mailbox's user name). */
  host: string;
  login: string;
}

/** The budget key of a profile: what its Maximum Concurrent Connections counts. */
export const profileKey = (profileId: string): string => `profile:${profileId}`;

export function connectionClaims(t: ConnectionTarget): SlotClaim[] {
  const max = t.maxConcurrentConnections;
  const limit = typeof max === 'number' ? Math.max(1, max) : async () => Math.max(1, await max());
  const claims: SlotClaim[] = [{ key: profileKey(t.profileId), limit }];
  if (t.protocol === 'imap')
    claims.push({
      key: `imap-account:${t.host.toLowerCase()}:${t.login.toLowerCase()}`,
      limit: IMAP_CONNECTIONS_PER_ACCOUNT,
    });
  return claims;
}

/** Test & Enable's global cap (CHECK_CONCURRENCY): mailbox tests running at once across every process. */
export const checksClaim = (limit: number): SlotClaim => ({ key: 'checks:all', limit: Math.max(1, limit) });
