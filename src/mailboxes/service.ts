// Mailbox rules: create, edit, delete, approve. Owners, address uniqueness, the per-profile capacity, write-only
// credentials, and the reset (sign-in released, approval and statuses back to start) when address or profile change.
// Whatever a mailbox holds with a credentials provider (a Gmail grant) is released through the provider registry.
import { SEALED } from '../security/secrets.ts';
import type { EmailServerProfile, Mailbox, Prisma } from '../generated/prisma/client.ts';
import type { AppDeps } from '../deps.ts';
import type { PublicUser } from '../auth/users.ts';
import type { FieldErrors } from '../web/forms.ts';
import { audit, auditMany, type AuditEntry } from '../security/audit.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { NOTHING_RELEASED, releaseAll, type Released } from '../mail/credentials.ts';
import { lockProfileWithRoom, ProfileFullError, ProfileMissingError, TX_OPTIONS } from './capacity.ts';
import { lockMailbox } from './locks.ts';
import type { MailboxDetail } from './access.ts';
import type { MailboxInput } from './form.ts';

export type MailboxDeps = Pick<AppDeps, 'db' | 'sealer' | 'providers'>;
type Actor = Pick<PublicUser, 'id' | 'email' | 'role'>;
type AuditMeta = { ip?: string | null };

export class MailboxFormError extends Error {
  constructor(readonly errors: FieldErrors) {
    super('The mailbox form has errors');
  }
}

/** Address or profile changed: the old grant no longer fits and every check must run again. */
export const RESET_ON_IDENTITY_CHANGE = {
  emailApproval: 'PENDING',
  incomingStatus: 'NOT_RUN',
  outgoingStatus: 'NOT_RUN',
  enabledForIncoming: false,
  enabledForOutgoing: false,
  retryCount: 0,
  nextRetryAt: null,
} as const;

function asFormError(e: unknown): MailboxFormError | undefined {
  if (e instanceof MailboxFormError) return e;
  // The 101st mailbox: a banner on top as well as the field error, so it is not missed below the fold.
  if (e instanceof ProfileFullError)
    return new MailboxFormError({ _form: `This mailbox was not saved. ${e.message}`, profileId: e.message });
  if (e instanceof ProfileMissingError)
    return new MailboxFormError({ profileId: 'Choose an email server profile that exists' });
  if ((e as { code?: string }).code === 'P2002')
    return new MailboxFormError({ emailAddress: 'A mailbox with this email address already exists' });
  return undefined;
}

async function ownerFor(deps: MailboxDeps, actor: Actor, input: MailboxInput, existing?: Mailbox): Promise<string> {
  if (actor.role !== 'ADMIN') return existing?.ownerId ?? actor.id; // a user's mailbox is always their own
  const id = input.ownerId ?? existing?.ownerId ?? actor.id;
  const owner = await deps.db.prisma.user.findUnique({ where: { id }, select: { id: true } });
  if (!owner) throw new MailboxFormError({ ownerId: 'Choose an owner' });
  return id;
}

/** Credentials only for profiles that use them; the password is write-only: blank keeps it, the box clears it. */
function credentials(
  deps: Pick<MailboxDeps, 'sealer'>,
  profile: EmailServerProfile | null,
  input: MailboxInput,
  existing?: Mailbox,
) {
  if (!profile || !authMethod(profile).credentialsPerMailbox)
    return { credentialUsername: null, credentialPassword: null };
  const credentialPassword = input.clearCredentialPassword
    ? null
    : input.credentialPassword
      ? deps.sealer.seal(input.credentialPassword, SEALED.mailboxPassword)
      : (existing?.credentialPassword ?? null);
  return { credentialUsername: input.credentialUsername || null, credentialPassword };
}

export async function createMailbox(
  deps: MailboxDeps,
  actor: Actor,
  input: MailboxInput,
  meta: AuditMeta = {},
): Promise<Mailbox> {
  const ownerId = await ownerFor(deps, actor, input);
  try {
    return await deps.db.prisma.$transaction(
      (tx) => createMailboxIn(tx, deps, actor, ownerId, input, meta),
      TX_OPTIONS,
    );
  } catch (e) {
    throw asFormError(e) ?? e;
  }
}

/**
 * The create itself, inside the caller's interactive transaction (the CSV import marks its row in the same one): the
 * profile's capacity lock, the insert and its audit entry commit together or not at all. The owner is already
 * checked. A rule's refusal throws MailboxFormError; the transaction is then unusable and must end.
 */
export async function createMailboxIn(
  tx: Prisma.TransactionClient,
  deps: Pick<MailboxDeps, 'sealer'>,
  actor: Actor,
  ownerId: string,
  input: MailboxInput,
  meta: AuditMeta = {},
): Promise<Mailbox> {
  let mailbox: Mailbox;
  try {
    const profile = input.profileId ? await lockProfileWithRoom(tx, input.profileId) : null;
    mailbox = await tx.mailbox.create({
      data: {
        name: input.name,
        emailAddress: input.emailAddress,
        ownerId,
        profileId: profile?.id ?? null,
        incomingEmail: input.incomingEmail,
        outgoingEmail: input.outgoingEmail,
        emailApproval: 'PENDING',
        ...credentials(deps, profile, input),
      },
    });
  } catch (e) {
    throw asFormError(e) ?? e;
  }
  await audit(tx, {
    action: 'mailbox.create',
    targetType: 'Mailbox',
    targetId: mailbox.id,
    actor,
    ip: meta.ip,
    details: { emailAddress: mailbox.emailAddress, ownerId, profileId: mailbox.profileId },
  });
  return mailbox;
}

export interface UpdateResult {
  mailbox: Mailbox;
  reset: boolean;
  grantDropped: boolean;
}

export async function updateMailbox(
  deps: MailboxDeps,
  actor: Actor,
  current: MailboxDetail,
  input: MailboxInput,
  meta: AuditMeta = {},
): Promise<UpdateResult> {
  const ownerId = await ownerFor(deps, actor, input, current);
  const reset = input.emailAddress !== current.emailAddress || input.profileId !== current.profileId;
  let result: { mailbox: Mailbox; release: (() => Promise<Released>) | null };
  try {
    result = await deps.db.prisma.$transaction(async (tx) => {
      if (!(await lockMailbox(tx, current.id)))
        throw new MailboxFormError({ _form: 'This mailbox was deleted meanwhile.' });
      const profile = !input.profileId
        ? null
        : input.profileId !== current.profileId
          ? await lockProfileWithRoom(tx, input.profileId, current.id)
          : await tx.emailServerProfile.findUnique({ where: { id: input.profileId } });
      const release = reset ? await releaseAll(deps.providers, tx, current) : null;
      const mailbox = await tx.mailbox.update({
        where: { id: current.id },
        data: {
          name: input.name,
          emailAddress: input.emailAddress,
          ownerId,
          profileId: profile?.id ?? null,
          incomingEmail: input.incomingEmail,
          outgoingEmail: input.outgoingEmail,
          ...credentials(deps, profile, input, current),
          ...(reset ? RESET_ON_IDENTITY_CHANGE : {}),
        },
      });
      return { mailbox, release };
    }, TX_OPTIONS);
  } catch (e) {
    throw asFormError(e) ?? e;
  }
  const fields = [
    'name',
    'emailAddress',
    'ownerId',
    'profileId',
    'incomingEmail',
    'outgoingEmail',
    'credentialUsername',
    'credentialPassword',
  ] as const;
  const changed: string[] = fields.filter((k) => result.mailbox[k] !== current[k]);
  await audit(deps.db.prisma, {
    action: 'mailbox.update',
    targetType: 'Mailbox',
    targetId: current.id,
    actor,
    ip: meta.ip,
    details: { emailAddress: result.mailbox.emailAddress, changed, reset, grantDropped: !!result.release },
  });
  await result.release?.();
  return { mailbox: result.mailbox, reset, grantDropped: !!result.release };
}

/** Deletes the mailbox (its grant, test runs and alerts go with it), then releases its sign-in (revoked at Google). */
export async function deleteMailbox(
  deps: MailboxDeps,
  actor: Actor,
  mailbox: MailboxDetail,
  meta: AuditMeta = {},
): Promise<Released> {
  const release = await deps.db.prisma.$transaction(async (tx) => {
    const after = await releaseAll(deps.providers, tx, mailbox);
    await tx.mailbox.deleteMany({ where: { id: mailbox.id } });
    return after;
  }, TX_OPTIONS);
  const released = (await release?.()) ?? NOTHING_RELEASED;
  await audit(deps.db.prisma, {
    action: 'mailbox.delete',
    targetType: 'Mailbox',
    targetId: mailbox.id,
    actor,
    ip: meta.ip,
    details: {
      emailAddress: mailbox.emailAddress,
      googleEmail: mailbox.grant?.googleEmail ?? null,
      revoked: released.outcome,
    },
  });
  return released;
}

const approvalData = (decision: 'APPROVED' | 'REJECTED') =>
  decision === 'APPROVED'
    ? { emailApproval: 'APPROVED' as const }
    : { emailApproval: 'REJECTED' as const, enabledForIncoming: false, enabledForOutgoing: false };

const approvalAudit = (
  actor: Actor,
  m: Pick<Mailbox, 'id' | 'emailAddress' | 'emailApproval'>,
  decision: 'APPROVED' | 'REJECTED',
  meta: AuditMeta,
  extra: Record<string, unknown> = {},
): AuditEntry => ({
  action: decision === 'APPROVED' ? 'mailbox.approve' : 'mailbox.reject',
  targetType: 'Mailbox',
  targetId: m.id,
  actor,
  ip: meta.ip,
  details: { emailAddress: m.emailAddress, previous: m.emailApproval, ...extra },
});

export class ApprovalNotAllowedError extends Error {
  constructor() {
    super('Only administrators approve or reject email addresses.');
  }
}

/** Approve Email / Reject Email (admins only, whichever door asks). A rejected address cannot stay enabled. */
export async function setApproval(
  deps: MailboxDeps,
  actor: Actor,
  mailbox: Mailbox,
  decision: 'APPROVED' | 'REJECTED',
  meta: AuditMeta = {},
): Promise<void> {
  if (actor.role !== 'ADMIN') throw new ApprovalNotAllowedError();
  await deps.db.prisma.mailbox.update({ where: { id: mailbox.id }, data: approvalData(decision) });
  await audit(deps.db.prisma, approvalAudit(actor, mailbox, decision, meta));
}

type Approvable = Pick<Mailbox, 'id' | 'name' | 'emailAddress' | 'emailApproval'>;

/**
 * Approve Email / Reject Email for many mailboxes (a bulk action): the same change as setApproval, one audit entry per
 * mailbox changed, all in one transaction. Mailboxes already so are left alone and returned as `unchanged`.
 */
export async function setApprovalMany(
  deps: MailboxDeps,
  actor: Actor,
  ids: string[],
  decision: 'APPROVED' | 'REJECTED',
  meta: AuditMeta = {},
): Promise<{ changed: Approvable[]; unchanged: Approvable[] }> {
  if (actor.role !== 'ADMIN') throw new ApprovalNotAllowedError();
  return deps.db.prisma.$transaction(async (tx) => {
    const rows = await tx.mailbox.findMany({
      where: { id: { in: ids } },
      select: { id: true, name: true, emailAddress: true, emailApproval: true },
    });
    const changed = rows.filter((m) => m.emailApproval !== decision);
    if (changed.length) {
      await tx.mailbox.updateMany({ where: { id: { in: changed.map((m) => m.id) } }, data: approvalData(decision) });
      await auditMany(
        tx,
        changed.map((m) => approvalAudit(actor, m, decision, meta, { bulk: true })),
      );
    }
    return { changed, unchanged: rows.filter((m) => m.emailApproval === decision) };
  }, TX_OPTIONS);
}
