// Bulk seeding for the benches: connected Gmail mailboxes for Test & Enable (createMany), and 10,000 mailboxes for the pages (SQL).
import { SEALED } from '../src/security/secrets.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import type { RawSql } from '../src/db/client.ts';
import type { Sealer } from '../src/security/secrets.ts';
import { createUser } from '../src/auth/users.ts';
import type { RemoteWorld } from './world.ts';

/** One Gmail OAuth client serves at most this many mailboxes (GMAIL_PROFILE_CAPACITY): the seed respects it. */
const PER_PROFILE = 100;
export const BENCH_PASSWORD = 'bench password 123';

export interface ScaleSeed {
  ownerId: string;
  profileIds: string[];
  mailboxIds: string[];
}

/**
 * n connected mailboxes (approved, IMAP + SMTP STARTTLS through the delaying proxies) spread over
 * ⌈n / 100⌉ Gmail profiles, each with a grant minted by the Google fake.
 */
export async function seedScale(
  prisma: PrismaClient,
  sealer: Sealer,
  world: RemoteWorld,
  o: { n: number; maxConcurrentConnections: number },
): Promise<ScaleSeed> {
  const owner = await prisma.user.create({
    data: {
      email: `owner-${randomBytes(3).toString('hex')}@bench.test`,
      name: 'Bench owner',
      passwordHash: 'x',
      role: 'USER',
    },
  });
  const profileIds: string[] = [];
  for (let p = 0; p < Math.ceil(o.n / PER_PROFILE); p++) {
    const profile = await prisma.emailServerProfile.create({
      data: {
        name: `Bench Gmail ${p + 1} ${randomBytes(2).toString('hex')}`,
        serverType: 'IMAP',
        incomingServer: '127.0.0.1',
        incomingPort: world.imapPort,
        incomingUseSsl: true,
        outgoingServer: '127.0.0.1',
        outgoingPort: world.smtpStarttlsPort,
        outgoingSecurity: 'STARTTLS',
        authenticateUsing: 'GMAIL_OAUTH',
        oauthClientId: world.clientId,
        oauthClientSecret: sealer.seal(world.clientSecret, SEALED.profileClientSecret),
        maxConcurrentConnections: o.maxConcurrentConnections,
      },
    });
    profileIds.push(profile.id);
  }
  const tag = randomBytes(3).toString('hex');
  const emails = Array.from({ length: o.n }, (_, i) => `bench-${tag}-${i}@gmail.test`);
  const tokens = await world.addAccounts(emails);
  const mailboxIds = emails.map(() => randomUUID());
  const expired = new Date(Date.now() - 1000);
  for (let i = 0; i < o.n; i += 500) {
    const slice = emails.slice(i, i + 500);
    await prisma.mailbox.createMany({
      data: slice.map((email, j) => ({
        id: mailboxIds[i + j],
        name: email,
        emailAddress: email,
        ownerId: owner.id,
        profileId: profileIds[Math.floor((i + j) / PER_PROFILE)],
        emailApproval: 'APPROVED' as const,
        incomingEmail: 'SERVER_SIDE_SYNC' as const,
        outgoingEmail: 'SERVER_SIDE_SYNC' as const,
      })),
    });
    await prisma.gmailGrant.createMany({
      data: slice.map((email, j) => ({
        mailboxId: mailboxIds[i + j],
        googleEmail: email,
        grantedScopes: 'openid email https://mail.google.com/',
        accessToken: sealer.seal(tokens[i + j].access_token, SEALED.grantAccessToken),
        refreshToken: sealer.seal(tokens[i + j].refresh_token, SEALED.grantRefreshToken),
        accessTokenExpiresAt: expired,
      })),
    });
  }
  return { ownerId: owner.id, profileIds, mailboxIds };
}

/** Before each run: every token expired (so the refresh is measured), statuses back to Not run. */
export async function resetForRun(prisma: PrismaClient, mailboxIds: string[]): Promise<void> {
  await prisma.gmailGrant.updateMany({
    where: { mailboxId: { in: mailboxIds } },
    data: { accessTokenExpiresAt: new Date(Date.now() - 1000) },
  });
  await prisma.mailbox.updateMany({
    where: { id: { in: mailboxIds } },
    data: {
      incomingStatus: 'NOT_RUN',
      outgoingStatus: 'NOT_RUN',
      enabledForIncoming: false,
      enabledForOutgoing: false,
      retryCount: 0,
      nextRetryAt: null,
    },
  });
}

/** A deterministic, valid version-4 UUID (as text) from a SQL expression: md5 with the version and variant digits set. */
const uuid = (expr: string) => `overlay(overlay(md5(${expr}) placing '4' from 13) placing '8' from 17)::uuid::text`;

export interface PagesSeed {
  adminEmail: string;
  password: string;
  mailboxIds: string[];
  profiles: number;
  mailboxes: number;
}

/**
 * 10,000 mailboxes on 50 profiles in plain SQL (generate_series), valid for the app's rules: 25 Gmail OAuth
 * profiles at their 100-mailbox capacity, 25 per-mailbox-credentials profiles sharing the rest; 200 owners;
 * a grant per Gmail mailbox, and one finished test run and one alert per mailbox.
 */
export async function seedPages(
  raw: RawSql,
  prisma: PrismaClient,
  sealer: Sealer,
  o: { mailboxes: number; profiles: number; vacuum: boolean },
): Promise<PagesSeed> {
  const adminEmail = `admin-${randomBytes(3).toString('hex')}@bench.test`;
  await createUser(prisma, { email: adminEmail, name: 'Bench admin', password: BENCH_PASSWORD, role: 'ADMIN' });
  const hash = (await prisma.user.findUniqueOrThrow({ where: { email: adminEmail } })).passwordHash;
  const gmailProfiles = Math.min(Math.ceil(o.profiles / 2), Math.floor(o.mailboxes / PER_PROFILE));
  const gmailMailboxes = gmailProfiles * PER_PROFILE;
  const secret = sealer.seal('GOCSPX-bench-secret', SEALED.profileClientSecret);
  const access = sealer.seal('ya29.bench', SEALED.grantAccessToken);
  const refresh = sealer.seal('1//bench', SEALED.grantRefreshToken);
  const password = sealer.seal('app password', 'mailbox.credentialPassword');
  await raw.exec(`
    INSERT INTO "User" (id, email, name, "passwordHash", role, "updatedAt")
      SELECT ${uuid("'u' || g")}, 'user' || g || '@bench.test', 'Bench user ' || g, '${hash}', 'USER', now() FROM generate_series(1, 200) g;
    INSERT INTO "EmailServerProfile" (id, name, "incomingServer", "incomingPort", "outgoingServer", "outgoingPort", "authenticateUsing", "oauthClientId", "oauthClientSecret", "maxConcurrentConnections", "updatedAt")
      SELECT ${uuid("'p' || g")}, 'Profile ' || lpad(g::text, 3, '0'),
        CASE WHEN g <= ${gmailProfiles} THEN 'imap.gmail.com' ELSE 'mail.example.com' END, 993,
        CASE WHEN g <= ${gmailProfiles} THEN 'smtp.gmail.com' ELSE 'mail.example.com' END, 587,
        (CASE WHEN g <= ${gmailProfiles} THEN 'GMAIL_OAUTH' ELSE 'CREDENTIALS_PER_MAILBOX' END)::"AuthenticateUsing",
        CASE WHEN g <= ${gmailProfiles} THEN 'client-' || g || '.apps.googleusercontent.com' END,
        CASE WHEN g <= ${gmailProfiles} THEN '${secret}' END, 10, now()
      FROM generate_series(1, ${o.profiles}) g;
    INSERT INTO "Mailbox" (id, name, "emailAddress", "ownerId", "profileId", "emailApproval", "incomingStatus", "outgoingStatus",
        "enabledForIncoming", "enabledForOutgoing", "credentialUsername", "credentialPassword", "lastTestStartedAt", "lastTestCompletedAt", "updatedAt")
      SELECT ${uuid("'mb' || g")}, 'Mailbox ' || lpad(g::text, 5, '0'), 'mb' || g || '@bench.test', ${uuid("'u' || (1 + g % 200)")},
        ${uuid(`'p' || CASE WHEN g <= ${gmailMailboxes} THEN 1 + (g - 1) / ${PER_PROFILE} ELSE ${gmailProfiles} + 1 + g % ${o.profiles - gmailProfiles} END`)},
        (ARRAY['APPROVED','APPROVED','APPROVED','PENDING','REJECTED'])[1 + g % 5]::"EmailApproval",
        (ARRAY['NOT_RUN','SUCCESS','SUCCESS','FAILURE','PENDING'])[1 + g % 5]::"CheckStatus",
        (ARRAY['NOT_RUN','SUCCESS','FAILURE','SUCCESS'])[1 + g % 4]::"CheckStatus",
        g % 3 = 0, g % 4 = 1,
        CASE WHEN g > ${gmailMailboxes} THEN 'mb' || g || '@bench.test' END, CASE WHEN g > ${gmailMailboxes} THEN '${password}' END,
        now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval + interval '2 seconds', now()
      FROM generate_series(1, ${o.mailboxes}) g;
    INSERT INTO "GmailGrant" (id, "mailboxId", "googleEmail", "grantedScopes", "accessToken", "accessTokenExpiresAt", "refreshToken")
      SELECT ${uuid("'gr' || g")}, ${uuid("'mb' || g")}, 'mb' || g || '@bench.test', 'openid email https://mail.google.com/', '${access}', now() + interval '1 hour', '${refresh}'
      FROM generate_series(1, ${gmailMailboxes}) g;
    INSERT INTO "TestRun" (id, "mailboxId", attempt, status, "startedAt", "finishedAt", steps)
      SELECT ${uuid("'tr' || g")}, ${uuid("'mb' || g")}, 1, CASE WHEN g % 4 = 2 THEN 'FAILURE' ELSE 'SUCCESS' END,
        now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval + interval '2 seconds',
        '[{"id":"token","label":"Access token","status":"ok","message":"Access token refreshed."},{"id":"account","label":"Account and scope","status":"ok"},{"id":"incoming-login","label":"Incoming login (IMAP)","status":"ok"},{"id":"incoming-mailbox","label":"Open INBOX","status":"ok"},{"id":"outgoing-login","label":"Outgoing login (SMTP)","status":"ok"}]'::jsonb
      FROM generate_series(1, ${o.mailboxes}) g;
    INSERT INTO "Alert" (id, "mailboxId", level, code, message, hint, "createdAt")
      SELECT ${uuid("'al' || g")}, ${uuid("'mb' || g")}, (ARRAY['INFO','WARNING','ERROR'])[1 + g % 3]::"AlertLevel", 'BENCH', 'Bench alert ' || g, 'Nothing to do.', now() - (g || ' minutes')::interval
      FROM generate_series(1, ${o.mailboxes}) g;
  `);
  // PostgreSQL's autovacuum would soon do this after 10,000 inserts, and so would the app's own loop on PGlite
  // (decision 043): vacuumed here, the server's first pass does not vacuum them while a page is being measured.
  await raw.exec(o.vacuum ? 'VACUUM ANALYZE' : 'ANALYZE');
  const ids = await raw.query<{ id: string }>(`SELECT id FROM "Mailbox" ORDER BY id LIMIT 200`);
  return {
    adminEmail,
    password: BENCH_PASSWORD,
    mailboxIds: ids.map((r) => r.id),
    profiles: o.profiles,
    mailboxes: o.mailboxes,
  };
}

/**
 * n emails over the first `mailboxes` seeded mailboxes (seedPages' ids), in plain SQL: 9 of 10 incoming, the rest
 * outgoing Sent, one every minute back from now, with a short text body (which a list must not read).
 */
export async function seedEmails(
  raw: RawSql,
  o: { emails: number; mailboxes: number; vacuum?: boolean },
): Promise<void> {
  await raw.exec(`
    INSERT INTO "Email" (id, "mailboxId", direction, status, "messageId", "fromAddress", "fromName", "to", subject, text, size,
        "receivedAt", "sentAt", "occurredAt")
      SELECT ${uuid("'em' || g")}, ${uuid(`'mb' || (1 + g % ${o.mailboxes})`)},
        (CASE WHEN g % 10 = 0 THEN 'OUTGOING' ELSE 'INCOMING' END)::"EmailDirection",
        (CASE WHEN g % 10 = 0 THEN 'SENT' ELSE 'RECEIVED' END)::"EmailStatus",
        '<' || g || '@bench.test>', 'sender' || (g % 997) || '@example.com', 'Sender ' || (g % 997),
        ('[{"address":"mb' || (1 + g % ${o.mailboxes}) || '@bench.test","name":""}]')::jsonb,
        'Bench message ' || g || ' about ' || (ARRAY['invoices','the meeting','a delivery','your account','lunch'])[1 + g % 5],
        repeat('Lorem ipsum dolor sit amet. ', 10), 2048,
        now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
      FROM generate_series(1, ${o.emails}) g;
  `);
  await raw.exec(o.vacuum ? 'VACUUM ANALYZE "Email"' : 'ANALYZE "Email"');
}
