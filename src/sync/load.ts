// What a session reads of its mailbox before it connects: the mailbox with its credentials fields, the profile's
// server and sync settings, the grant's identity and the MailboxSync row. Also the fingerprint of everything a running
// session depends on, so a change notification restarts the session only when one of these changed (decision 012).
import { createHash } from 'node:crypto';
import type { Database } from '../db/client.ts';
import type { Endpoint } from '../mail/types.ts';
import { mailboxCredentialFields, profileCredentialFields, type CredentialMailbox } from '../mail/credentials.ts';

const profileFields = {
  ...profileCredentialFields,
  serverType: true,
  incomingServer: true,
  incomingPort: true,
  incomingUseSsl: true,
  maxConcurrentConnections: true,
  minPollingIntervalMinutes: true,
  processEmailFrom: true,
  moveFailedToUndeliverable: true,
} as const;

export async function loadSession(db: Database, mailboxId: string) {
  const m = await db.prisma.mailbox.findUnique({
    where: { id: mailboxId },
    select: {
      ...mailboxCredentialFields,
      processEmailFrom: true,
      incomingStatus: true,
      profile: { select: profileFields },
      grant: { select: { googleEmail: true, issuedAt: true } },
    },
  });
  if (!m?.profile) return null;
  const sync = await db.prisma.mailboxSync.findUnique({ where: { mailboxId } });
  if (!sync) return null;
  const { profile, grant, processEmailFrom, incomingStatus, ...rest } = m;
  const credentialMailbox: CredentialMailbox = { ...rest, profile };
  return { mailbox: credentialMailbox, profile, grant, processEmailFrom, incomingStatus, sync };
}
export type SessionData = NonNullable<Awaited<ReturnType<typeof loadSession>>>;

/** Everything the running connection was built from; a change in anything else (Test & Enable's status writes, the
 *  polling interval read at each poll) does not restart it. */
export function sessionFingerprint(d: SessionData): string {
  const p = d.profile;
  const parts = [
    p.serverType,
    p.incomingServer,
    p.incomingPort,
    p.incomingUseSsl,
    p.authenticateUsing,
    p.oauthClientId,
    p.oauthClientSecret,
    d.mailbox.emailAddress,
    d.mailbox.credentialUsername,
    d.mailbox.credentialPassword,
    d.grant?.googleEmail,
    d.grant?.issuedAt.toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/** Where the profile's incoming server is (only the incoming half of mail/protocol.ts's ProfileServers is loaded). */
export function incomingServer(p: SessionData['profile']): Endpoint {
  return { host: p.incomingServer, port: p.incomingPort, secure: p.incomingUseSsl };
}

/** The profile's Maximum Concurrent Connections now (re-read at every attempt, so a lowered cap holds for waiters). */
export async function currentCap(env: { db: Database }, profileId: string, fallback: number): Promise<number> {
  const p = await env.db.prisma.emailServerProfile.findUnique({
    where: { id: profileId },
    select: { maxConcurrentConnections: true },
  });
  return p?.maxConcurrentConnections ?? fallback;
}
