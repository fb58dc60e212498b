// What Sign in to Gmail reads before and after Google: which profile (and OAuth client) a flow starts with, for a
// mailbox or for Connect Gmail, and, when Google answers, whether that mailbox and client are still valid.
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { emailSchema } from '../auth/users.ts';
import type { PublicUser } from '../auth/users.ts';
import { loadMailboxForUser, type MailboxDetail } from '../mailboxes/access.ts';
import { GMAIL_PROFILE_CAPACITY } from '../mailboxes/capacity.ts';
import { HttpError } from '../web/errors.ts';
import { GMAIL_OAUTH, profileClient } from './credentials.ts';
import type { PendingFlow } from './flow-store.ts';
import type { ClientCredentials } from './google-client.ts';
import type { ResultPage } from './pages.ts';

type Deps = Pick<AppDeps, 'db' | 'sealer'>;
type Pending = Pick<PendingFlow, 'kind' | 'mailboxId' | 'profileId'>;
export type Start =
  | { ok: true; creds: ClientCredentials; pending: Pending; loginHint?: string }
  | { ok: false; page: ResultPage };

/** Connect Gmail's one question: the Gmail address to sign in with (sent to Google as login_hint). */
export const connectGmailSchema = z.object({
  email: z.string({ error: 'Enter your Gmail address' }).max(320, 'Use at most 320 characters').pipe(emailSchema),
});

/** Connect Gmail starts on the default Gmail profile, while it has room and a usable OAuth client. */
export async function connectStart(deps: Deps): Promise<Start> {
  const profile = await deps.db.prisma.emailServerProfile.findFirst({
    where: { isDefaultGmail: true, authenticateUsing: GMAIL_OAUTH },
    orderBy: { createdAt: 'asc' },
    include: { _count: { select: { mailboxes: true } } },
  });
  if (!profile)
    return {
      ok: false,
      page: {
        title: 'Connect Gmail is not set up',
        message: 'There is no default Gmail profile. Ask your administrator to choose a default Gmail profile.',
      },
    };
  if (profile._count.mailboxes >= GMAIL_PROFILE_CAPACITY) {
    return {
      ok: false,
      page: {
        title: 'Connect Gmail is full',
        message: `The default Gmail profile already serves ${GMAIL_PROFILE_CAPACITY} mailboxes. Ask your administrator to create another Gmail profile and make it the default.`,
        banner: `No mailbox was created: the default Gmail profile already serves ${GMAIL_PROFILE_CAPACITY} mailboxes, the most one Gmail OAuth client should.`,
      },
    };
  }
  const client = profileClient(deps.sealer, profile);
  if (!client.ok) return { ok: false, page: { title: 'Connect Gmail is not set up', message: client.problem } };
  return { ok: true, creds: client.creds, pending: { kind: 'connect', profileId: profile.id } };
}

/** Sign in to Gmail on a mailbox starts with its profile's OAuth client, hinting Google at the mailbox's address. */
export function mailboxStart(deps: Deps, mailbox: MailboxDetail): Start {
  const client = profileClient(deps.sealer, mailbox.profile);
  if (!client.ok)
    return { ok: false, page: { title: 'Cannot Sign in to Gmail', message: client.problem, mailboxId: mailbox.id } };
  return {
    ok: true,
    creds: client.creds,
    pending: { kind: 'mailbox', mailboxId: mailbox.id, profileId: mailbox.profileId! },
    loginHint: mailbox.emailAddress,
  };
}

export interface SignInTarget {
  mailbox: MailboxDetail | null;
  creds: ClientCredentials;
}

/** The mailbox (kind 'mailbox') and the profile's OAuth client the flow started with, still valid now; or why not. */
export async function loadTarget(
  deps: Deps,
  user: Pick<PublicUser, 'id' | 'role'>,
  flow: PendingFlow,
): Promise<SignInTarget | string> {
  let mailbox: MailboxDetail | null = null;
  let profile: MailboxDetail['profile'];
  if (flow.kind === 'mailbox') {
    mailbox = await loadMailboxForUser(deps.db.prisma, user, flow.mailboxId).catch((e: unknown) => {
      if (e instanceof HttpError) return null;
      throw e;
    });
    if (!mailbox) return 'The mailbox no longer exists, or you no longer have access to it.';
    if (mailbox.profileId !== flow.profileId)
      return 'The mailbox’s email server profile changed while you were signing in to Google. Start again with Sign in to Gmail.';
    profile = mailbox.profile;
  } else {
    profile = await deps.db.prisma.emailServerProfile.findUnique({ where: { id: flow.profileId } });
  }
  const client = profileClient(deps.sealer, profile);
  return client.ok ? { mailbox, creds: client.creds } : client.problem;
}
