// The locals each mailbox page renders with (except the list), so routes read as load → page → render and views
// get plain fields only.
import type { PublicUser } from '../auth/users.ts';
import type { AppDeps } from '../deps.ts';
import type { FieldErrors } from '../web/forms.ts';
import { GMAIL_PROFILE_CAPACITY } from './capacity.ts';
import type { MailboxDetail } from './access.ts';
import { labels } from './labels.ts';
import { loadReport, signInPanel, testProgress } from './record.ts';
import { mailboxView } from './view-model.ts';
import { mailboxSyncPanel } from '../emails/mailbox-panel.ts';
import { isPending, statusVersion } from './status.ts';

type Deps = Pick<AppDeps, 'db' | 'providers'>;

export interface FormInput {
  mailbox?: MailboxDetail;
  values: Record<string, string>;
  errors: FieldErrors;
}

/** The form's choices: every profile (with its usage), and for admins the owners (the current one even if disabled). */
export async function formPage(deps: Deps, user: Pick<PublicUser, 'role'>, o: FormInput) {
  const { prisma } = deps.db;
  const [profiles, users] = await Promise.all([
    prisma.emailServerProfile.findMany({
      orderBy: { name: 'asc' },
      select: { id: true, name: true, authenticateUsing: true, _count: { select: { mailboxes: true } } },
    }),
    // the current owner stays listed even when disabled, so saving does not silently change the owner
    user.role === 'ADMIN'
      ? prisma.user.findMany({
          where: { OR: [{ disabledAt: null }, ...(o.values.ownerId ? [{ id: o.values.ownerId }] : [])] },
          orderBy: { email: 'asc' },
          select: { id: true, name: true, email: true },
        })
      : [],
  ]);
  return {
    title: o.mailbox ? `Edit ${o.mailbox.name}` : 'New mailbox',
    mailbox: o.mailbox ? mailboxView(o.mailbox) : null,
    values: o.values,
    errors: o.errors,
    profiles,
    users,
    capacity: GMAIL_PROFILE_CAPACITY,
    labels,
  };
}

/** A new mailbox starts on the default Gmail profile; a user's is their own, with their name and address. */
export async function newValues(
  deps: Deps,
  user: Pick<PublicUser, 'id' | 'role' | 'name' | 'email'>,
): Promise<Record<string, string>> {
  const def = await deps.db.prisma.emailServerProfile.findFirst({
    where: { isDefaultGmail: true },
    select: { id: true },
  });
  const mine = user.role !== 'ADMIN';
  return {
    name: mine ? user.name : '',
    emailAddress: mine ? user.email : '',
    ownerId: user.id,
    profileId: def?.id ?? '',
    incomingEmail: 'SERVER_SIDE_SYNC',
    outgoingEmail: 'SERVER_SIDE_SYNC',
    credentialUsername: '',
  };
}

export async function showPage(deps: Deps, mailbox: MailboxDetail) {
  const signIn = signInPanel(deps.providers, mailbox);
  const report = await loadReport(deps.db.prisma, mailbox.id);
  return {
    title: mailbox.name,
    mailbox: mailboxView(mailbox),
    labels,
    report,
    progress: testProgress(mailbox, report),
    live: { pending: isPending(mailbox), version: statusVersion(mailbox) },
    sync: await mailboxSyncPanel(deps.db.prisma, mailbox),
    signInPanel: signIn?.panel ?? null,
    signInProblem: signIn?.problem ?? null,
  };
}

export function deletePage(mailbox: MailboxDetail) {
  return { title: `Delete ${mailbox.name}`, mailbox: mailboxView(mailbox) };
}
