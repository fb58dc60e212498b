// Sandbox data, built with the test factories: an admin, a mailbox user, a Gmail profile on the local servers, four mailboxes.
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import type { Sealer } from '../src/security/secrets.ts';
import { createUser } from '../src/auth/users.ts';
import { createGmailProfile, createConnectedMailbox, type GmailWorld } from '../test/helpers/gmail-world.ts';

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

/** Google accounts and mail accounts in the fakes, then the database rows. Grants only for the pre-connected ones. */
export async function seedSandbox(prisma: PrismaClient, sealer: Sealer, w: GmailWorld): Promise<void> {
  const admin = await createUser(prisma, { ...PEOPLE.admin, role: 'ADMIN', password: SANDBOX_PASSWORD });
  const user = await createUser(prisma, { ...PEOPLE.user, role: 'USER', password: SANDBOX_PASSWORD });
  const profile = await createGmailProfile(prisma, sealer, w, { name: 'Gmail (local sandbox)' });
  await prisma.emailServerProfile.update({
    where: { id: profile.id },
    data: {
      isDefaultGmail: true,
      ownerId: admin.id,
      description: "Gmail OAuth against the sandbox's local Google look-alike and IMAP/POP3/SMTP servers on 127.0.0.1.",
    },
  });

  for (const m of [MAILBOXES.connected, MAILBOXES.imapOff]) {
    const mb = await createConnectedMailbox(prisma, sealer, w, {
      ownerId: user.id,
      profileId: profile.id,
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
