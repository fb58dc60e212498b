// Disconnect: delete the mailbox's grant and, in the same transaction, take the mailbox out of service (disabled for
// incoming and outgoing, statuses back to Not Run, any test in progress stopped, an alert saying why); then revoke
// the grant at Google (refresh token preferred), even if that fails the grant is gone here. The outcome tells the
// page what to say.
import type { AppDeps } from '../deps.ts';
import type { MailboxDetail } from '../mailboxes/access.ts';
import { lockMailbox } from '../mailboxes/locks.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import { revokeStoredGrant, type RevokeOutcome } from './grants.ts';

export async function disconnectGmail(
  deps: Pick<AppDeps, 'db' | 'sealer' | 'logger' | 'config' | 'google'>,
  mailbox: MailboxDetail,
  who: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<RevokeOutcome> {
  const grant = mailbox.grant;
  if (!grant) return 'none';
  const { prisma } = deps.db;
  const wasEnabled = mailbox.enabledForIncoming || mailbox.enabledForOutgoing;
  await prisma.$transaction(async (tx) => {
    if (!(await lockMailbox(tx, mailbox.id))) return;
    await tx.gmailGrant.deleteMany({ where: { id: grant.id } });
    // A run in progress would test (and could enable) a mailbox that has no sign-in any more: its result is void.
    await tx.testRun.updateMany({
      where: { mailboxId: mailbox.id, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'INTERRUPTED', finishedAt: new Date() },
    });
    await tx.mailbox.update({
      where: { id: mailbox.id },
      data: {
        enabledForIncoming: false,
        enabledForOutgoing: false,
        incomingStatus: 'NOT_RUN',
        outgoingStatus: 'NOT_RUN',
        retryCount: 0,
        nextRetryAt: null,
      },
    });
    await tx.alert.create({
      data: {
        mailboxId: mailbox.id,
        level: 'WARNING',
        code: 'DISCONNECTED',
        message: `Disconnected from Gmail (${grant.googleEmail}) by ${who.actor?.email ?? 'a user'}: the mailbox is no longer enabled for incoming or outgoing email.`,
        hint: 'Select Sign in to Gmail, then Test & Enable Mailbox, to use the mailbox again.',
      },
    });
  });
  const revoked = await revokeStoredGrant(deps, grant, mailbox.profile?.oauthClientId);
  await audit(prisma, {
    action: 'gmail.disconnect',
    targetType: 'Mailbox',
    targetId: mailbox.id,
    ...who,
    details: { googleEmail: grant.googleEmail, revoked, disabled: wasEnabled },
  });
  deps.logger.info({ mailboxId: mailbox.id, googleEmail: grant.googleEmail, revoked }, 'Gmail disconnected');
  return revoked;
}
