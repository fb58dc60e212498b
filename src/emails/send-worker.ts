// The send worker (worker role): a job claims its email (Pending Send → Sending, with this process's id), gets the
// mailbox's credentials, hands the message to the SMTP server and records Sent, Failed, a retry, or — when the server
// may have taken the message but said nothing — Sent status unknown. Every write after the claim is fenced on the
// claim; an email whose sender died while Sending is never sent again (decision 020).
import { fromPrisma, type Job } from 'pg-boss';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Jobs } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { RawSql } from '../db/client.ts';
import type { ConnectionSemaphore } from '../cluster/semaphore.ts';
import { connectionClaims } from '../sync/connections.ts';
import {
  mailboxCredentialFields,
  profileCredentialFields,
  providerFor,
  type CredentialProviders,
} from '../mail/credentials.ts';
import { outgoingEndpoint } from '../mail/protocol.ts';
import { secretsOf } from '../mail/steps.ts';
import { sendMessage } from '../mail/smtp-send.ts';
import { aliveSql } from '../cluster/liveness.ts';
import { deadAfterSeconds, type ClusterTiming } from '../cluster/timing.ts';
import { audit } from '../security/audit.ts';
import { addresses } from './labels.ts';
import { outgoingRefusal, senderSelect } from './send-service.ts';
import { credentialFailure, sendFailureOf, UNKNOWN_HINT, type SendFailure } from './send-errors.ts';
import { SEND_QUEUE, sendRetryDelayMs, type SendPayload, type SendSettings } from './send-job.ts';

export interface SendWorkerDeps {
  prisma: PrismaClient;
  sql: RawSql;
  jobs: Jobs;
  logger: Logger;
  providers: CredentialProviders;
  /** The cluster's connection budgets: a send takes a slot of the profile's Maximum Concurrent Connections. */
  semaphore: ConnectionSemaphore;
  ca?: string | Buffer;
  settings: SendSettings;
  /** This process in the WorkerProcess table: recorded on each email it claims. */
  processId: string;
  timing: ClusterTiming;
}

const emailSelect = {
  id: true,
  messageId: true,
  inReplyTo: true,
  references: true,
  fromAddress: true,
  fromName: true,
  to: true,
  cc: true,
  bcc: true,
  subject: true,
  text: true,
  createdAt: true,
  createdById: true,
  attempts: true,
  mailbox: {
    select: {
      ...senderSelect,
      ...mailboxCredentialFields,
      profile: {
        select: {
          ...profileCredentialFields,
          outgoingServer: true,
          outgoingPort: true,
          outgoingSecurity: true,
          incomingServer: true,
          incomingPort: true,
          incomingUseSsl: true,
          maxConcurrentConnections: true,
        },
      },
    },
  },
} as const satisfies Prisma.EmailSelect;

export const UNKNOWN_CODE = 'SENT_STATUS_UNKNOWN';
const UNKNOWN_DEAD = 'The process that was sending this email stopped before it recorded the result.';
const UNKNOWN_LOST = 'The connection was lost after the message was handed to the server, before it answered.';

export async function startSendWorkers(deps: SendWorkerDeps, o: { othersDead: boolean }) {
  const h = sendHandlers(deps);
  await h.sweep(o.othersDead);
  await deps.jobs.boss.work<SendPayload>(
    SEND_QUEUE,
    {
      localConcurrency: deps.settings.workers,
      pollingIntervalSeconds: deps.settings.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: deps.settings.pollingIntervalSeconds * 5,
    },
    async ([job]) => h.handle(job),
  );
  const timer = setInterval(() => {
    h.sweep(false).catch((err) => deps.logger.warn({ err }, 'sweep of interrupted sends failed'));
  }, deps.settings.sweepMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export function sendHandlers(deps: SendWorkerDeps) {
  const { prisma, logger, settings, processId } = deps;

  /** Pending Send → Sending here, one attempt more. None: sent, failed, or another worker has it. */
  async function claim(emailId: string): Promise<{ attempts: number } | undefined> {
    const rows = await prisma.$queryRawUnsafe<{ attempts: number }[]>(
      `UPDATE "Email" SET status = 'SENDING', "sendingProcessId" = $2, "sendingStartedAt" = now(),
         attempts = attempts + 1, "nextAttemptAt" = NULL, "updatedAt" = now()
       WHERE id = $1 AND status = 'PENDING_SEND' AND direction = 'OUTGOING'
       RETURNING attempts`,
      emailId,
      processId,
    );
    return rows[0];
  }

  /** Fenced write: the email is still Sending here. */
  const ours = (id: string) => ({ id, status: 'SENDING' as const, sendingProcessId: processId });

  async function record(id: string, data: Prisma.EmailUpdateManyMutationInput, event: Record<string, unknown>) {
    return prisma.$transaction(async (tx) => {
      const { count } = await tx.email.updateMany({ where: ours(id), data });
      if (count !== 1) return false;
      await audit(tx, {
        action: 'email.send',
        targetType: 'Email',
        targetId: id,
        result: data.status === 'SENT' ? 'SUCCESS' : 'FAILURE',
        details: event,
      });
      return true;
    });
  }

  const fail = (id: string, f: SendFailure, attempts: number) =>
    record(
      id,
      { status: 'FAILED', errorCode: f.code, errorMessage: f.message, errorHint: f.hint, nextAttemptAt: null },
      { step: 'failed', code: f.code, attempts },
    );

  const unknown = (id: string, message: string) =>
    record(
      id,
      { status: 'UNKNOWN', errorCode: UNKNOWN_CODE, errorMessage: message, errorHint: UNKNOWN_HINT },
      { step: 'unknown', code: UNKNOWN_CODE },
    );

  async function retry(id: string, f: SendFailure, attempts: number) {
    const nextAttemptAt = new Date(Date.now() + sendRetryDelayMs(attempts, settings.retryBaseMs));
    return prisma.$transaction(async (tx) => {
      const { count } = await tx.email.updateMany({
        where: ours(id),
        data: {
          status: 'PENDING_SEND',
          nextAttemptAt,
          errorCode: f.code,
          errorMessage: f.message,
          errorHint: f.hint,
        },
      });
      if (count !== 1) return false;
      const payload: SendPayload = { emailId: id };
      await deps.jobs.boss.send(SEND_QUEUE, payload, { startAfter: nextAttemptAt, db: fromPrisma(tx) });
      return true;
    });
  }

  /** A transient failure retries while attempts remain; a permanent one (or the last attempt) fails now. */
  async function failedAttempt(id: string, f: SendFailure, attempts: number) {
    if (f.transient && attempts <= settings.retryLimit) {
      await retry(id, f, attempts);
      logger.info({ emailId: id, attempt: attempts, code: f.code }, 'email send will retry');
      return;
    }
    const final =
      f.transient && attempts > 1
        ? {
            ...f,
            hint: `Mailroom tried ${attempts} times and gave up. ${f.hint.replace(/ ?Mailroom tries again automatically\.?/, '')} Write the email again later.`.trim(),
          }
        : f;
    await fail(id, final, attempts);
    logger.info({ emailId: id, attempts, code: f.code }, 'email send failed');
  }

  async function handle(job: Job<SendPayload>): Promise<void> {
    const id = job.data.emailId;
    const claimed = await claim(id);
    if (!claimed) {
      // A job handed out again after its process died: the email it was sending is not sent again.
      await sweepOne(id);
      return;
    }
    const email = await prisma.email.findUnique({ where: { id }, select: emailSelect });
    if (!email) return;
    const mb = email.mailbox;
    const refusal = outgoingRefusal(mb);
    if (refusal || !mb.profile) {
      const r = refusal ?? { code: 'NO_PROFILE', message: 'The mailbox has no email server profile.', hint: '' };
      await fail(id, { ...r, transient: false }, claimed.attempts);
      logger.info({ emailId: id, code: r.code }, 'email send refused: the mailbox cannot send');
      return;
    }
    const profile = mb.profile;
    const creds = await providerFor(deps.providers, profile).credentials({ ...mb, profile });
    if (!creds.ok) {
      const { code, message, hint, transient } = creds.failure;
      return failedAttempt(id, credentialFailure({ code, message, hint, transient }), claimed.attempts);
    }
    const endpoint = outgoingEndpoint(profile);
    const claims = connectionClaims({
      profileId: profile.id,
      maxConcurrentConnections: profile.maxConcurrentConnections,
      protocol: 'smtp',
      host: endpoint.host,
      login: creds.auth.user,
    });
    const result = await deps.semaphore.run(claims, { purpose: `send:${id}` }, () =>
      sendMessage(
        {
          endpoint,
          auth: creds.auth,
          ca: deps.ca,
          connectTimeoutMs: settings.connectTimeoutMs,
          totalTimeoutMs: settings.totalTimeoutMs,
        },
        {
          messageId: email.messageId,
          from: { address: email.fromAddress, name: email.fromName },
          to: addresses(email.to),
          cc: addresses(email.cc),
          bcc: addresses(email.bcc),
          subject: email.subject,
          text: email.text ?? '',
          inReplyTo: email.inReplyTo,
          references: email.references,
          date: email.createdAt,
        },
      ),
    );
    if (result.ok) {
      const note = result.rejected.length ? ` Refused recipients: ${result.rejected.join(', ')}.` : '';
      const now = new Date();
      await record(
        id,
        {
          status: 'SENT',
          sentAt: now,
          occurredAt: now,
          smtpResponse: `${result.response}${note}`.slice(0, 1000),
          errorCode: null,
          errorMessage: null,
          errorHint: null,
          nextAttemptAt: null,
        },
        { step: 'sent', attempts: claimed.attempts, rejected: result.rejected.length },
      );
      logger.info({ emailId: id, attempts: claimed.attempts }, 'email sent');
      return;
    }
    if (result.stage === 'handover' && !result.refused) {
      await unknown(id, UNKNOWN_LOST);
      logger.warn({ emailId: id }, 'email send status unknown: connection lost after the message was handed over');
      return;
    }
    const f = sendFailureOf(result.error, creds.auth.kind, secretsOf(creds.auth));
    await failedAttempt(id, f, claimed.attempts);
  }

  /** One email left Sending by a dead process → Sent status unknown. */
  async function sweepOne(id: string): Promise<void> {
    await markDead(
      'AND e.id = $3 AND NOT EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = e."sendingProcessId" AND ' +
        aliveSql('w', '$4') +
        ')',
      [id, deadAfterSeconds(deps.timing)],
    );
  }

  /**
   * Every email left Sending by a process that is dead (no fresh heartbeat). With othersDead (embedded mode: one
   * process by construction) every other process's Sending email is, whatever its last heartbeat says.
   */
  async function sweep(othersDead: boolean): Promise<number> {
    return othersDead
      ? markDead('AND e."sendingProcessId" IS DISTINCT FROM $3', [processId])
      : markDead(
          'AND NOT EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = e."sendingProcessId" AND ' +
            aliveSql('w', '$3') +
            ')',
          [deadAfterSeconds(deps.timing)],
        );
  }

  async function markDead(where: string, params: unknown[]): Promise<number> {
    const rows = await deps.sql.query<{ id: string }>(
      `UPDATE "Email" e SET status = 'UNKNOWN', "errorCode" = '${UNKNOWN_CODE}', "errorMessage" = $1,
         "errorHint" = $2, "updatedAt" = now()
       WHERE e.status = 'SENDING' ${where}
       RETURNING e.id`,
      [UNKNOWN_DEAD, UNKNOWN_HINT, ...params],
    );
    for (const r of rows) logger.warn({ emailId: r.id }, 'email send status unknown: its sender process died');
    return rows.length;
  }

  return { handle, sweep, claim };
}
