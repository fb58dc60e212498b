// Storing what a finished Sign in to Gmail yields: the grant of an existing mailbox, or (Connect Gmail) a new
// mailbox with its grant. Both re-check, inside a locked transaction, that nothing changed since the flow began;
// a refusal is a SignInRefused and nothing is stored.
import type { Mailbox } from '../generated/prisma/client.ts';
import type { AppDeps } from '../deps.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import type { PublicUser } from '../auth/users.ts';
import { lockProfileWithRoom, ProfileFullError, ProfileMissingError, TX_OPTIONS } from '../mailboxes/capacity.ts';
import { writeGrant } from './grants.ts';
import { lockMailbox } from '../mailboxes/locks.ts';
import type { PendingFlow } from './flow-store.ts';
import type { GmailAccount } from './strategy.ts';

export class SignInRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type Deps = Pick<AppDeps, 'db' | 'sealer'>;

const grantOf = (mailboxId: string, googleEmail: string, a: GmailAccount) => ({
  mailboxId,
  googleEmail,
  accessToken: a.token.access_token,
  expiresIn: a.token.expires_in,
  scope: a.token.scope,
  refreshToken: a.token.refresh_token,
});

export interface Stored {
  mailboxId: string;
  needsReconsent: boolean;
}

/** Stores the result of the flow: the mailbox's grant, or Connect Gmail's new mailbox (audited as created). */
export async function storeSignIn(
  deps: Deps,
  flow: PendingFlow,
  user: Pick<PublicUser, 'id' | 'name'>,
  googleEmail: string,
  account: GmailAccount,
  who: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<Stored> {
  if (flow.kind === 'mailbox')
    return { mailboxId: flow.mailboxId!, ...(await storeMailboxGrant(deps, flow, googleEmail, account)) };
  const made = await createConnectedMailbox(deps, flow, user, googleEmail, account);
  await audit(deps.db.prisma, {
    action: 'mailbox.create',
    targetType: 'Mailbox',
    targetId: made.mailbox.id,
    ...who,
    details: { emailAddress: googleEmail, via: 'connect-gmail' },
  });
  return { mailboxId: made.mailbox.id, needsReconsent: made.needsReconsent };
}

/** Sign in to Gmail on an existing mailbox: replaces its grant atomically. */
export async function storeMailboxGrant(
  deps: Deps,
  flow: PendingFlow,
  googleEmail: string,
  account: GmailAccount,
): Promise<{ needsReconsent: boolean }> {
  return deps.db.prisma.$transaction(async (tx) => {
    const mailboxId = flow.mailboxId!;
    const mailbox = (await lockMailbox(tx, mailboxId))
      ? await tx.mailbox.findUnique({ where: { id: mailboxId } })
      : null;
    if (!mailbox)
      throw new SignInRefused('mailbox-gone', 'The mailbox was deleted while you were signing in to Google.');
    if (mailbox.profileId !== flow.profileId || mailbox.emailAddress.toLowerCase() !== googleEmail) {
      throw new SignInRefused(
        'mailbox-changed',
        'The mailbox’s email address or server profile changed while you were signing in to Google. Start again with Sign in to Gmail.',
      );
    }
    return writeGrant(tx, deps.sealer, grantOf(mailboxId, googleEmail, account));
  }, TX_OPTIONS);
}

/** Connect Gmail: a new mailbox for the Google account's verified address, owned by the user, with the grant. */
export async function createConnectedMailbox(
  deps: Deps,
  flow: PendingFlow,
  user: Pick<PublicUser, 'id' | 'name'>,
  googleEmail: string,
  account: GmailAccount,
): Promise<{ mailbox: Mailbox; needsReconsent: boolean }> {
  try {
    return await deps.db.prisma.$transaction(async (tx) => {
      await lockProfileWithRoom(tx, flow.profileId);
      if (await tx.mailbox.findUnique({ where: { emailAddress: googleEmail }, select: { id: true } }))
        throw duplicate(googleEmail);
      const mailbox = await tx.mailbox.create({
        data: {
          name: user.name,
          emailAddress: googleEmail,
          ownerId: user.id,
          profileId: flow.profileId,
          incomingEmail: 'SERVER_SIDE_SYNC',
          outgoingEmail: 'SERVER_SIDE_SYNC',
          emailApproval: 'PENDING',
        },
      });
      const { needsReconsent } = await writeGrant(tx, deps.sealer, grantOf(mailbox.id, googleEmail, account));
      return { mailbox, needsReconsent };
    }, TX_OPTIONS);
  } catch (e) {
    if (e instanceof ProfileFullError) {
      throw new SignInRefused(
        'profile-full',
        `The Gmail profile “${e.profileName}” already serves ${e.capacity} mailboxes. Ask your administrator to create another Gmail profile (and make it the default), then try again.`,
      );
    }
    if (e instanceof ProfileMissingError)
      throw new SignInRefused(
        'profile-gone',
        'The default Gmail profile was deleted while you were signing in. Ask your administrator to choose a default Gmail profile.',
      );
    if ((e as { code?: string }).code === 'P2002') throw duplicate(googleEmail);
    throw e;
  }
}

function duplicate(email: string): SignInRefused {
  return new SignInRefused(
    'duplicate',
    `A mailbox for ${email} already exists in Mailroom, so Connect Gmail did not create another. Open that mailbox and use Sign in to Gmail there, or ask your administrator.`,
  );
}
