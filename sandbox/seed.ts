// Sandbox data, built with the test factories: an admin, a mailbox user, a Gmail profile on the local servers, four mailboxes.
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import type { Sealer } from '../src/security/secrets.ts';
import { createUser } from '../src/auth/users.ts';
import { createGmailProfile, createConnectedMailbox, type GmailWorld } from '../test/helpers/gmail-world.ts';
import type { DovecotServer } from '../test/fakes/dovecot.ts';
import { sandboxMessage } from './live-mail.ts';

export const SANDBOX_PASSWORD = 'sandbox-password';

export interface SandboxPeople {
  admin: { email: string; name: string };
  user: { email: string; name: string };
}

export interface SandboxMailbox {
  name: string;
  email: string;
  story: string;
}

export const PEOPLE: SandboxPeople = {
  admin: { email: 'admin@mailroom.test', name: 'Grace Admin' },
  user: { email: 'ada@mailroom.test', name: 'Ada Lovelace' },
};

/** The mailboxes, in the order the newcomer should try them; all belong to the mailbox user. */
export const MAILBOXES = {
  fresh: {
    name: 'Ada Lovelace',
    email: 'ada@gmail.test',
    story: 'approved, not connected: Sign in to Gmail, then Test & Enable Mailbox → Success',
  },
  connected: {
    name: 'Sales',
    email: 'sales@gmail.test',
    story: 'approved and already connected: Test & Enable Mailbox → Success',
  },
  imapOff: {
    name: 'Support (IMAP off)',
    email: 'support@gmail.test',
    story: 'connected, but IMAP is turned off in Gmail: Test & Enable Mailbox → IMAP_DISABLED with what to do',
  },
  pending: {
    name: 'Marketing',
    email: 'marketing@gmail.test',
    story: 'not approved yet: the administrator selects Approve Email',
  },
} satisfies Record<string, SandboxMailbox>;

/** The mailboxes whose mail lives in the local Dovecot when the sandbox has live mail (all but the IMAP-off story). */
export const LIVE_MAILBOXES = [MAILBOXES.fresh, MAILBOXES.connected, MAILBOXES.pending];

/**
 * Google accounts and mail accounts in the fakes, then the database rows. Grants only for the pre-connected ones.
 * With `live` (a Dovecot), the Gmail profile's IMAP is Dovecot and each of LIVE_MAILBOXES holds two welcome messages
 * that the first synchronization brings in; the IMAP-off story stays on the scripted servers (its own profile), since
 * only they can answer like Gmail with IMAP turned off.
 */
export async function seedSandbox(
  prisma: PrismaClient,
  sealer: Sealer,
  w: GmailWorld,
  live?: DovecotServer,
): Promise<void> {
  const admin = await createUser(prisma, { ...PEOPLE.admin, role: 'ADMIN', password: SANDBOX_PASSWORD });
  const user = await createUser(prisma, { ...PEOPLE.user, role: 'USER', password: SANDBOX_PASSWORD });
  const profile = await createGmailProfile(prisma, sealer, w, { name: 'Gmail (local sandbox)' });
  await prisma.emailServerProfile.update({
    where: { id: profile.id },
    data: {
      isDefaultGmail: true,
      ownerId: admin.id,
      description: live
        ? "Gmail OAuth against the sandbox's local Google look-alike, a local Dovecot for IMAP and the scripted SMTP server on 127.0.0.1."
        : "Gmail OAuth against the sandbox's local Google look-alike and IMAP/POP3/SMTP servers on 127.0.0.1.",
      ...(live ? { incomingPort: live.imap.port, processEmailFrom: new Date(Date.now() - 86_400_000) } : {}),
    },
  });
  const scripted = live
    ? await createGmailProfile(prisma, sealer, w, { name: 'Gmail (scripted refusals)' }).then((p) =>
        prisma.emailServerProfile.update({
          where: { id: p.id },
          data: {
            ownerId: admin.id,
            description:
              "The sandbox's scripted Gmail-like servers: they answer as Gmail does when IMAP is turned off.",
          },
        }),
      )
    : profile;
  if (live)
    for (const m of LIVE_MAILBOXES) {
      await live.addUser(m.email, { gmail: true });
      for (const subject of ['Welcome to the sandbox', 'Your first synchronized email'])
        await live.deliver(m.email, sandboxMessage(m.email, subject), {
          internalDate: new Date(Date.now() - 10 * 60_000),
        });
    }

  for (const m of [MAILBOXES.connected, MAILBOXES.imapOff]) {
    const mb = await createConnectedMailbox(prisma, sealer, w, {
      ownerId: user.id,
      profileId: m === MAILBOXES.imapOff ? scripted.id : profile.id,
      email: m.email,
    });
    await prisma.mailbox.update({ where: { id: mb.id }, data: { name: m.name } });
  }
  w.mail.accounts.set(MAILBOXES.imapOff.email, { imapEnabled: false });

  for (const [m, approval] of [
    [MAILBOXES.fresh, 'APPROVED'],
    [MAILBOXES.pending, 'PENDING'],
  ] as const) {
    w.mail.accounts.set(m.email, { messages: 3 });
    await prisma.mailbox.create({
      data: { name: m.name, emailAddress: m.email, ownerId: user.id, profileId: profile.id, emailApproval: approval },
    });
  }
  // Named accounts make the consent page's "Choose an account" list read like Google's.
  for (const m of Object.values(MAILBOXES))
    w.google.addAccount({ email: m.email, name: m.name.replace(/ \(.*\)$/, '') });
}
