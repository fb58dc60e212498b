// A real Dovecot (decision 011) checking bearer tokens against the Google fake, plus factories for profiles and
// mailboxes that synchronize from it: the world of the sync engine's tests (and the multi-process tests on top), and
// syncSuite, the shared before/after and waits of the in-process sync suites (test/sync/imap*.test.ts, pop3.test.ts).
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { SEALED, type Sealer } from '../../src/security/secrets.ts';
import { startFakeGoogle, googleEnvOf, type FakeGoogle } from '../fakes/google.ts';
import { startDovecot, type DovecotServer } from '../fakes/dovecot.ts';
import type { SyncSettings } from '../../src/sync/settings.ts';
import { createTestContext, type TestContext } from './context.ts';
import type { DbMode } from './db.ts';
import { until } from './until.ts';

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

/** Dovecot complaints an IMAP suite expects: a deliberate UIDVALIDITY change under a selected session, and (at load
 * ~30) Dovecot giving up on the in-process Google fake's tokeninfo after 10 s, which the engine then retries. */
export const EXPECTED_IMAP_ERRORS =
  /index reset, view is now inconsistent|UIDVALIDITY has changed|Token validation failed: Absolute request timeout/;

export interface SyncSuite {
  w: SyncWorld;
  ctx: TestContext;
  ownerId: string;
  prisma(): PrismaClient;
  syncRow(mailboxId: string): ReturnType<PrismaClient['mailboxSync']['findUnique']>;
  /** Waits until the mailbox's session is CONNECTED. */
  connected(mailboxId: string): Promise<true>;
  emails(mailboxId: string): ReturnType<PrismaClient['email']['findMany']>;
  /** Waits until the message is stored for the mailbox; returns its row. */
  arrived(
    mailboxId: string,
    messageId: string,
  ): Promise<Awaited<ReturnType<PrismaClient['email']['findMany']>>[number]>;
  /** A Dovecot profile (options as createDovecotProfile) and an enabled mailbox on it. */
  newMailbox(
    o?: SyncProfileOptions,
    m?: { processEmailFrom?: Date; enabled?: boolean },
  ): ReturnType<typeof createSyncMailbox>;
}

export const SYNC_WAIT = 60_000;

/** The IMAP suites' timers: quick retries and safety checks, small batches and messages. */
export const IMAP_SETTINGS: Partial<SyncSettings> = {
  safetyCheckMs: 5_000,
  maxMessageBytes: 64 * 1024,
  batchMessages: 2,
  minHoldMs: 500,
  retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 },
};

/**
 * The before/after of a sync suite, called inside a describe: a fresh sync world and a test context on `mode` with
 * jobs and synchronization (`settings`) running; after the suite, Dovecot's log must hold no error but those
 * `allowedErrors` matches. The returned object's w, ctx and ownerId are set once `before` has run.
 */
export function syncSuite(
  mode: DbMode,
  settings: Partial<SyncSettings>,
  o: { allowedErrors?: RegExp; wait?: number } = {},
): SyncSuite {
  const wait = o.wait ?? SYNC_WAIT;
  const s = {} as SyncSuite;
  before(async () => {
    s.w = await startSyncWorld();
    s.ctx = await createTestContext(mode, {
      jobs: true,
      sync: settings,
      env: s.w.googleEnv,
      app: { mailTlsCa: s.w.dovecot.ca },
    });
    s.ownerId = (await s.ctx.user()).id;
  });
  after(async () => {
    await s.ctx?.close();
    const errors = (s.w?.dovecot.errors() ?? []).filter((e) => !o.allowedErrors?.test(e));
    await s.w?.close();
    assert.deepEqual(errors, [], 'Dovecot logged errors');
  });
  s.prisma = () => s.ctx.db.prisma;
  s.syncRow = (mailboxId) => s.prisma().mailboxSync.findUnique({ where: { mailboxId } });
  s.connected = (mailboxId) =>
    until(
      `mailbox ${mailboxId} connected`,
      async () => ((await s.syncRow(mailboxId))?.state === 'CONNECTED' ? true : undefined),
      wait,
    );
  s.emails = (mailboxId) => s.prisma().email.findMany({ where: { mailboxId }, orderBy: { receivedAt: 'asc' } });
  s.arrived = (mailboxId, messageId) =>
    until(
      `${messageId} stored`,
      async () => (await s.emails(mailboxId)).find((e) => e.messageId === messageId) ?? undefined,
      wait,
    ).catch(async (e) => {
      const row = await s.syncRow(mailboxId).catch(() => null);
      throw new Error(`${e.message}; sync: ${JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    });
  s.newMailbox = async (p = {}, m = {}) => {
    const profile = await createDovecotProfile(s.prisma(), s.ctx.sealer, s.w, p);
    return createSyncMailbox(s.prisma(), s.ctx.sealer, s.w, {
      ownerId: s.ownerId,
      profileId: profile.id,
      auth: p.auth,
      ...m,
    });
  };
  return s;
}
