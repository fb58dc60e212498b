// Disconnect: revoke the mailbox's grant at Google (refresh token preferred), then delete it even if Google
// could not be reached; the outcome tells the page what to say.
import type { AppDeps } from '../deps.ts';
import type { MailboxDetail } from '../mailboxes/access.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import { revokeStoredGrant, type RevokeOutcome } from './grants.ts';

export async function disconnectGmail(
  deps: Pick<AppDeps, 'db' | 'sealer' | 'logger' | 'config' | 'google'>,
  mailbox: MailboxDetail,
  who: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<RevokeOutcome> {
  const grant = mailbox.grant;
  if (!grant) return 'none';
  const revoked = await revokeStoredGrant(deps, grant, mailbox.profile?.oauthClientId);
  await deps.db.prisma.gmailGrant.deleteMany({ where: { id: grant.id } });
  await audit(deps.db.prisma, {
    action: 'gmail.disconnect',
    targetType: 'Mailbox',
    targetId: mailbox.id,
    ...who,
    details: { googleEmail: grant.googleEmail, revoked },
  });
  deps.logger.info({ mailboxId: mailbox.id, googleEmail: grant.googleEmail, revoked }, 'Gmail disconnected');
  return revoked;
}
