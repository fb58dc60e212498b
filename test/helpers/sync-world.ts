// A real Dovecot (decision 011) checking bearer tokens against the Google fake, plus factories for profiles and
// mailboxes that synchronize from it: the world of the sync engine's tests (and the multi-process tests on top).
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { SEALED, type Sealer } from '../../src/security/secrets.ts';
import { startFakeGoogle, googleEnvOf, type FakeGoogle } from '../fakes/google.ts';
import { startDovecot, type DovecotServer } from '../fakes/dovecot.ts';

export interface SyncWorld {
  google: FakeGoogle;
  dovecot: DovecotServer;
  clientId: string;
  clientSecret: string;
  /** Environment for loadConfig: the Google fake's endpoints. */
  googleEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startSyncWorld(o: { hibernateSeconds?: number } = {}): Promise<SyncWorld> {
  const google = await startFakeGoogle();
  const dovecot = await startDovecot({ google, ...o });
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  google.addClient({ clientId, clientSecret, redirectUris: [] });
  return {
    google,
    dovecot,
    clientId,
    clientSecret,
    googleEnv: googleEnvOf(google),
    close: async () => {
      await dovecot.stop();
      await google.close();
    },
  };
}

export interface SyncProfileOptions {
  serverType?: 'IMAP' | 'POP3';
  auth?: 'GMAIL_OAUTH' | 'CREDENTIALS_PER_MAILBOX';
  moveFailedToUndeliverable?: boolean;
  processEmailFrom?: Date | null;
  maxConcurrentConnections?: number;
  minPollingIntervalMinutes?: number;
}

export async function createDovecotProfile(
  prisma: PrismaClient,
  sealer: Sealer,
  w: SyncWorld,
  o: SyncProfileOptions = {},
) {
  const pop3 = o.serverType === 'POP3';
  const oauth = (o.auth ?? 'GMAIL_OAUTH') === 'GMAIL_OAUTH';
  return prisma.emailServerProfile.create({
    data: {
      name: `Dovecot ${randomBytes(3).toString('hex')}`,
      serverType: pop3 ? 'POP3' : 'IMAP',
      incomingServer: '127.0.0.1',
      incomingPort: pop3 ? w.dovecot.pop3.port : w.dovecot.imap.port,
      incomingUseSsl: true,
      outgoingServer: '127.0.0.1',
      outgoingPort: 1,
      authenticateUsing: oauth ? 'GMAIL_OAUTH' : 'CREDENTIALS_PER_MAILBOX',
      ...(oauth
        ? { oauthClientId: w.clientId, oauthClientSecret: sealer.seal(w.clientSecret, SEALED.profileClientSecret) }
        : {}),
      maxConcurrentConnections: o.maxConcurrentConnections ?? 10,
      minPollingIntervalMinutes: o.minPollingIntervalMinutes ?? 1,
      moveFailedToUndeliverable: o.moveFailedToUndeliverable ?? false,
      processEmailFrom: o.processEmailFrom ?? null,
    },
  });
}

/**
 * A mailbox enabled for incoming synchronization, with a Dovecot user and (Gmail OAuth) a Google account and a grant
 * minted by the Google fake, or (credentials) a user name and password.
 */
export async function createSyncMailbox(
  prisma: PrismaClient,
  sealer: Sealer,
  w: SyncWorld,
  o: {
    ownerId: string;
    profileId: string;
    auth?: 'GMAIL_OAUTH' | 'CREDENTIALS_PER_MAILBOX';
    email?: string;
    enabled?: boolean;
    processEmailFrom?: Date | null;
  },
) {
  const email = (o.email ?? `mb-${randomBytes(4).toString('hex')}@gmail.test`).toLowerCase();
  const oauth = (o.auth ?? 'GMAIL_OAUTH') === 'GMAIL_OAUTH';
  const password = `pw-${randomBytes(6).toString('hex')}`;
  if (oauth) {
    w.google.addAccount({ email });
    await w.dovecot.addUser(email, { gmail: true });
  } else await w.dovecot.addUser(email, { password });
  const t = oauth ? w.google.issueTokensFor(email, w.clientId) : null;
  const mailbox = await prisma.mailbox.create({
    data: {
      name: email,
      emailAddress: email,
      ownerId: o.ownerId,
      profileId: o.profileId,
      emailApproval: 'APPROVED',
      incomingEmail: 'SERVER_SIDE_SYNC',
      outgoingEmail: 'NONE',
      incomingStatus: 'SUCCESS',
      enabledForIncoming: o.enabled ?? true,
      processEmailFrom: o.processEmailFrom ?? null,
      ...(oauth
        ? {}
        : { credentialUsername: email, credentialPassword: sealer.seal(password, SEALED.mailboxPassword) }),
      ...(t
        ? {
            grant: {
              create: {
                googleEmail: email,
                grantedScopes: 'openid email https://mail.google.com/',
                accessToken: sealer.seal(t.access_token, SEALED.grantAccessToken),
                refreshToken: sealer.seal(t.refresh_token, SEALED.grantRefreshToken),
                accessTokenExpiresAt: new Date(Date.now() + t.expires_in * 1000),
              },
            },
          }
        : {}),
    },
  });
  return { mailbox, email, password, accessToken: t?.access_token ?? null };
}

let counter = 0;
/** A plain RFC 5322 message with a unique Message-ID. */
export function mailMessage(
  to: string,
  subject: string,
  o: { date?: Date; body?: string; messageId?: string } = {},
): { raw: string; messageId: string } {
  const messageId = o.messageId ?? `<s${++counter}.${process.pid}.${randomBytes(3).toString('hex')}@mailroom.test>`;
  const date = (o.date ?? new Date()).toUTCString().replace('GMT', '+0000');
  return {
    messageId,
    raw:
      `From: Sender <sender@example.net>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n` +
      `Date: ${date}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${o.body ?? 'Hello.'}\r\n`,
  };
}
