// What a session writes about itself: its MailboxSync state (fenced: only while this process owns the mailbox), and
// the health decisions of health.ts applied to the mailbox (status, enabled for incoming, sign-in required), its
// alerts and the profile's "more than half failed" alert.
import type { Database } from '../db/client.ts';
import type { SyncState } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import {
  decideProfileHealth,
  decideRecovery,
  PROFILE_WINDOW_MS,
  type HealthDecision,
  type SyncAlert,
  type SyncFailure,
} from './health.ts';

export interface StatusDeps {
  db: Database;
  ownerId: string;
  logger: Logger;
}

/** Sets the state (and any other MailboxSync columns) if this process still owns the mailbox; false otherwise. */
export async function setState(
  d: StatusDeps,
  mailboxId: string,
  state: SyncState,
  extra: { stoppedReason?: string | null; nextAttemptAt?: Date | null } = {},
): Promise<boolean> {
  const n = await d.db.prisma.mailboxSync.updateMany({
    where: { mailboxId, ownerId: d.ownerId },
    data: { state, ...extra },
  });
  return n.count > 0;
}

export async function addAlert(
  d: StatusDeps,
  target: { mailboxId?: string; profileId?: string },
  a: SyncAlert,
): Promise<void> {
  await createAlert(d.db.prisma, target, a);
}

async function createAlert(
  prisma: Pick<Database['prisma'], 'alert'>,
  target: { mailboxId?: string; profileId?: string },
  a: SyncAlert,
): Promise<void> {
  await prisma.alert.create({
    data: { ...target, level: a.level, code: a.code, message: a.message.slice(0, 2000), hint: a.hint },
  });
}

/** The connection works (IMAP: signed in, INBOX selected; POP3: a poll passed): clear the backoff, say so once. */
export async function markHealthy(
  d: StatusDeps,
  mailboxId: string,
  state: SyncState,
): Promise<{ recovered: boolean } | null> {
  const row = await d.db.prisma.mailboxSync.findUnique({
    where: { mailboxId },
    select: { ownerId: true, retryCount: true, mailbox: { select: { incomingStatus: true } } },
  });
  if (!row || row.ownerId !== d.ownerId) return null;
  const r = decideRecovery({ retryCount: row.retryCount, incomingStatus: row.mailbox.incomingStatus });
  const ok = await d.db.prisma.mailboxSync.updateMany({
    where: { mailboxId, ownerId: d.ownerId },
    data: { state, retryCount: 0, nextAttemptAt: null, stoppedReason: null },
  });
  if (!ok.count) return null;
  if (r.incomingStatus)
    await d.db.prisma.mailbox.updateMany({
      where: { id: mailboxId, incomingStatus: 'FAILURE' },
      data: { incomingStatus: r.incomingStatus },
    });
  if (r.alert) await addAlert(d, { mailboxId }, r.alert);
  return { recovered: r.alert !== null };
}

/** Thrown inside applyFailure's transaction to roll it back when this process no longer owns the mailbox. */
class NotOwned extends Error {}

/** Applies decideFailure's retry or stop decision. Returns false when this process no longer owns the mailbox. */
export async function applyFailure(
  d: StatusDeps,
  mailboxId: string,
  profileId: string,
  failure: SyncFailure,
  decision: Exclude<HealthDecision, { action: 'refresh-token' }>,
): Promise<boolean> {
  const now = new Date();
  const error = {
    lastErrorCode: failure.code,
    lastErrorMessage: failure.message.slice(0, 1000),
    lastErrorHint: failure.hint,
    lastErrorAt: now,
  };
  // One transaction: a reader (the mailbox's page, a test, the other processes) sees the sync row's new state, the
  // mailbox's status and the grant's "sign in again" together or not at all, and a crash between them cannot leave a
  // stopped session on a mailbox that still says Enabled. The Mailbox row is written first, as deleting a mailbox
  // (Mailbox, then its MailboxSync by cascade) locks them, so the two cannot deadlock.
  const mailboxData =
    decision.action === 'retry'
      ? decision.incomingStatus
        ? { incomingStatus: decision.incomingStatus }
        : null
      : // Disabling notifies the ownership (a trigger, delivered at commit), which releases the mailbox (state STOPPED,
        // the reason kept).
        { incomingStatus: decision.incomingStatus, enabledForIncoming: decision.enabledForIncoming };
  const owned = await d.db.prisma
    .$transaction(async (tx) => {
      if (mailboxData) {
        const m = await tx.mailbox.updateMany({
          where: { id: mailboxId, sync: { is: { ownerId: d.ownerId } } },
          data: mailboxData,
        });
        if (!m.count) throw new NotOwned();
      }
      const n = await tx.mailboxSync.updateMany({
        where: { mailboxId, ownerId: d.ownerId },
        data:
          decision.action === 'retry'
            ? {
                ...error,
                state: decision.state,
                retryCount: decision.retryCount,
                nextAttemptAt: decision.nextAttemptAt,
              }
            : { ...error, state: decision.state, stoppedReason: decision.stoppedReason, nextAttemptAt: null },
      });
      if (!n.count) throw new NotOwned();
      if (decision.action === 'stop' && decision.badge === 'SIGN_IN_AGAIN')
        await tx.gmailGrant.updateMany({
          where: { mailboxId, signInRequiredAt: null },
          data: { signInRequiredAt: now, signInRequiredCode: failure.code },
        });
      if (decision.alert) await createAlert(tx, { mailboxId }, decision.alert);
      return true;
    })
    .catch((e: unknown) => {
      if (e instanceof NotOwned) return false; // rolled back: another process owns the mailbox now
      throw e;
    });
  if (!owned) return false;
  d.logger.warn(
    {
      mailboxId,
      code: failure.code,
      action: decision.action,
      ...(decision.action === 'retry' ? { label: decision.label } : {}),
    },
    decision.action === 'stop' ? 'incoming synchronization stopped' : 'incoming synchronization failed; retrying',
  );
  await checkProfileHealth(d, profileId, now).catch((e) =>
    d.logger.warn({ err: e, profileId }, 'profile health check failed'),
  );
  return true;
}

/** More than half of the profile's mailboxes failed in the last hour → one ERROR alert on the profile per hour. */
export async function checkProfileHealth(d: StatusDeps, profileId: string, now = new Date()): Promise<void> {
  const rows = await d.db.prisma.mailboxSync.findMany({
    where: { mailbox: { profileId } },
    select: { ownerId: true, lastErrorAt: true, state: true },
  });
  const last = await d.db.prisma.alert.findFirst({
    where: { profileId, code: 'PROFILE_MAILBOXES_FAILING' },
    orderBy: { createdAt: 'desc' },
    select: { createdAt: true },
  });
  const since = new Date(now.getTime() - PROFILE_WINDOW_MS);
  const h = decideProfileHealth({
    mailboxes: rows.map((r) => ({
      syncing: r.ownerId !== null && r.state !== 'STOPPED',
      lastFailureAt: r.lastErrorAt && r.lastErrorAt >= since ? r.lastErrorAt : null,
    })),
    now,
    lastAlertAt: last?.createdAt ?? null,
  });
  if (h.alert) await addAlert(d, { profileId }, h.alert);
}

/**
 * Mailboxes of this profile take turns for its connections (decision 022): one WARNING on the profile per hour, naming
 * the number of enabled mailboxes and the cap, and what to change.
 */
export async function warnRotation(d: StatusDeps, profileId: string, now = new Date()): Promise<boolean> {
  const code = 'PROFILE_CONNECTIONS_ROTATING';
  const profile = await d.db.prisma.emailServerProfile.findUnique({
    where: { id: profileId },
    select: { maxConcurrentConnections: true },
  });
  const enabled = await d.db.prisma.mailbox.count({
    where: { profileId, enabledForIncoming: true, incomingEmail: 'SERVER_SIDE_SYNC', emailApproval: 'APPROVED' },
  });
  const cap = profile?.maxConcurrentConnections ?? 0;
  if (enabled <= cap) return false; // lent to Test & Enable for a moment, not taking turns
  const last = await d.db.prisma.alert.findFirst({
    where: { profileId, code, createdAt: { gte: new Date(now.getTime() - PROFILE_WINDOW_MS) } },
    select: { id: true },
  });
  if (!last)
    await addAlert(
      d,
      { profileId },
      {
        level: 'WARNING',
        code,
        message: `${enabled} mailboxes of this profile synchronize, but its Maximum Concurrent Connections is ${cap}: they take turns connecting, so new mail can arrive minutes late.`,
        hint: `Raise Maximum Concurrent Connections above ${enabled} (plus a few for Test & Enable) on the email server profile.`,
      },
    );
  return true;
}
