// Which connection budgets a mail-server connection counts against (docs/decisions/012). Dynamics 365 counts Maximum
// Concurrent Connections per mailbox when the credentials are the mailbox's own (both of Mailroom's Authenticate
// Using options are) and per profile only when the profile holds one shared login; Gmail adds 15 IMAP connections
// per account.
import type { SlotClaim } from '../cluster/semaphore.ts';

/** Gmail's limit of simultaneous IMAP connections per account (also a safe cap for other servers). */
export const IMAP_CONNECTIONS_PER_ACCOUNT = 15;

export interface ConnectionTarget {
  mailboxId: string;
  /** The profile's Maximum Concurrent Connections. */
  maxConcurrentConnections: number;
  protocol: 'imap' | 'pop3' | 'smtp';
  /** The server and the login the connection authenticates as (the Google account, or the mailbox's user name). */
  host: string;
  login: string;
}

export function connectionClaims(t: ConnectionTarget): SlotClaim[] {
  const claims: SlotClaim[] = [{ key: `mailbox:${t.mailboxId}`, limit: Math.max(1, t.maxConcurrentConnections) }];
  if (t.protocol === 'imap')
    claims.push({
      key: `imap-account:${t.host.toLowerCase()}:${t.login.toLowerCase()}`,
      limit: IMAP_CONNECTIONS_PER_ACCOUNT,
    });
  return claims;
}
