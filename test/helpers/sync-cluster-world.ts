// A multi-process synchronization world on PostgreSQL for multi-process tests and the sync benchmark: the Google fake, a real
// Dovecot (decision 011), a fresh database with an admin, a Gmail OAuth profile on Dovecot and mailboxes that are
// enabled for incoming Server-Side Synchronization with real grants, and the environment Mailroom processes share.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer, SEALED, type Sealer } from '../../src/security/secrets.ts';
import { createUser } from '../../src/auth/users.ts';
import { startFakeGoogle, googleEnvOf, type FakeGoogle } from '../fakes/google.ts';
import { startDovecot, type DovecotServer } from '../fakes/dovecot.ts';
import { startCountingProxy, type CountingProxy } from './counting-proxy.ts';
import { ADMIN_URL } from './db.ts';

export const ADMIN_PASSWORD = 'correct horse battery';
export const ADMIN_EMAIL = 'admin@example.com';

export interface SyncMailbox {
  id: string;
  email: string;
}

export interface SyncProfile {
  id: string;
  /** Present when the profile reaches Dovecot through a counting proxy. */
  proxy?: CountingProxy;
}

export interface SyncWorld {
  google: FakeGoogle;
  dovecot: DovecotServer;
  db: Database;
  url: string;
  sealer: Sealer;
  adminId: string;
  /** Environment for `startProcess` (PostgreSQL, keys, Google endpoints, the mail CA, random HTTP port). */
  env: Record<string, string>;
  addProfile(o?: { maxConcurrentConnections?: number; proxy?: boolean }): Promise<SyncProfile>;
  /** n Dovecot users with grants, enabled for incoming sync on the profile unless `enabled: false`. */
  addMailboxes(profile: SyncProfile, n: number, o?: { enabled?: boolean }): Promise<SyncMailbox[]>;
  /** A fresh access token for a mailbox's Google account (for plain imapflow clients in benchmarks). */
  accessToken(email: string): string;
  /** Delivers a small text message as an MTA would (`bodyBytes` of text, default a line); returns its Message-ID. */
  deliver(email: string, subject: string, o?: { bodyBytes?: number }): Promise<string>;
  close(): Promise<void>;
}

let seq = 0;
const LINE = 'The quick brown fox jumps over the lazy dog; a typical line of a typical e-mail body.\r\n';
const filler = (bytes: number) => LINE.repeat(Math.ceil(bytes / LINE.length));
export function testMessage(to: string, subject: string, bodyBytes = 0): { raw: string; messageId: string } {
  const messageId = `<sync-${++seq}.${process.pid}.${randomBytes(4).toString('hex')}@mailroom.test>`;
  const raw =
    `From: Sender <sender@example.net>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\nHello from the sync tests.\r\n${filler(bodyBytes)}`;
  return { raw, messageId };
}

export async function startSyncWorld(
  o: { adminUrl?: string; hibernateSeconds?: number; tag?: string } = {},
): Promise<SyncWorld> {
  const adminUrl = o.adminUrl ?? ADMIN_URL;
  const google = await startFakeGoogle();
  const dovecot = await startDovecot({ google, hibernateSeconds: o.hibernateSeconds });
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  google.addClient({ clientId, clientSecret, redirectUris: [] });

  const name = `mailroom_${o.tag ?? 'sync'}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const key = randomBytes(32).toString('base64');
  const db = postgresDatabase(url, 4);
  await migrate(db);
  const sealer = createSealer(Buffer.from(key, 'base64'));
  const adminUser = await createUser(db.prisma, {
    email: ADMIN_EMAIL,
    name: 'Admin',
    role: 'ADMIN',
    password: ADMIN_PASSWORD,
  });
  const dir = mkdtempSync(join(tmpdir(), 'mr-sync-world-'));
  const proxies: CountingProxy[] = [];
  const env = {
    DATABASE_URL: url,
    SECRETS_KEY: key,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    DATA_DIR: dir,
    MAIL_TLS_CA_FILE: dovecot.caFile,
    LOG_LEVEL: 'info',
    ...googleEnvOf(google),
  };

  return {
    google,
    dovecot,
    db,
    url,
    sealer,
    adminId: adminUser.id,
    env,
    async addProfile(p = {}) {
      const proxy = p.proxy ? await startCountingProxy(dovecot.imap) : undefined;
      if (proxy) proxies.push(proxy);
      const row = await db.prisma.emailServerProfile.create({
        data: {
          name: `Dovecot ${randomBytes(3).toString('hex')}`,
          serverType: 'IMAP',
          incomingServer: '127.0.0.1',
          incomingPort: proxy?.port ?? dovecot.imap.port,
          incomingUseSsl: true,
          // Nothing listens here: the mailboxes have no outgoing synchronization.
          outgoingServer: '127.0.0.1',
          outgoingPort: 9,
          authenticateUsing: 'GMAIL_OAUTH',
          oauthClientId: clientId,
          oauthClientSecret: sealer.seal(clientSecret, SEALED.profileClientSecret),
          maxConcurrentConnections: p.maxConcurrentConnections ?? 10,
          // Everything the tests deliver counts, whenever the mailbox became eligible.
          processEmailFrom: new Date(Date.now() - 3600_000),
        },
      });
      return { id: row.id, proxy };
    },
    accessToken: (email) => google.issueTokensFor(email, clientId).access_token,
    async addMailboxes(profile, n, mo = {}) {
      const made: SyncMailbox[] = [];
      const tag = randomBytes(3).toString('hex');
      for (let i = 0; i < n; i++) {
        const email = `mb-${tag}-${i}@gmail.test`;
        google.addAccount({ email });
        await dovecot.addUser(email); // INBOX only: Gmail's folders cost a doveadm call each
        made.push({ id: '', email });
      }
      for (let from = 0; from < made.length; from += 100) {
        const chunk = made.slice(from, from + 100);
        await db.prisma.$transaction(
          async (tx) => {
            for (const m of chunk) {
              const t = google.issueTokensFor(m.email, clientId);
              const row = await tx.mailbox.create({
                data: {
                  name: m.email,
                  emailAddress: m.email,
                  ownerId: adminUser.id,
                  profileId: profile.id,
                  emailApproval: 'APPROVED',
                  incomingEmail: 'SERVER_SIDE_SYNC',
                  outgoingEmail: 'NONE',
                  enabledForIncoming: mo.enabled ?? true,
                  incomingStatus: mo.enabled === false ? 'NOT_RUN' : 'SUCCESS',
                  grant: {
                    create: {
                      googleEmail: m.email,
                      grantedScopes: 'openid email https://mail.google.com/',
                      accessToken: sealer.seal(t.access_token, SEALED.grantAccessToken),
                      refreshToken: sealer.seal(t.refresh_token, SEALED.grantRefreshToken),
                      accessTokenExpiresAt: new Date(Date.now() + t.expires_in * 1000),
                    },
                  },
                },
                select: { id: true },
              });
              m.id = row.id;
            }
          },
          { timeout: 120_000 },
        ); // a loaded machine: 100 mailboxes with grants can take more than the default 5 s
      }
      return made;
    },
    async deliver(email, subject, d = {}) {
      const m = testMessage(email, subject, d.bodyBytes);
      await dovecot.deliver(email, m.raw);
      return m.messageId;
    },
    async close() {
      await Promise.all(proxies.map((p) => p.close()));
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      await dovecot.stop();
      await google.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
