// Outgoing email below the pages, on both engines: the send service queues, the real pg-boss job sends through the
// Gmail-like SMTP fake (XOAUTH2 checked against the Google fake, or an app password), and the email's row records
// Sent, Failed (mapped code and hint) or retries; a double submit and a second job send nothing more; the incoming
// sync later sees the sent message and stores nothing new (decision 020).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';
import { SEALED } from '../../src/security/secrets.ts';
import { composeSchema } from '../../src/emails/compose-form.ts';
import { ComposeError, queueEmail } from '../../src/emails/send-service.ts';
import { SEND_QUEUE } from '../../src/emails/send-job.ts';
import { registerProcess } from '../../src/cluster/registry.ts';
import { claimMailboxes, ensureSyncRows } from '../../src/cluster/ownership-sql.ts';
import { ingest } from '../../src/sync/ingest.ts';

const w: GmailWorld = await startGmailWorld();
after(() => w.close());

/** The message's headers as one string (unfolded) and its body, from the raw text the server received. */
function split(raw: string) {
  const at = raw.indexOf('\r\n\r\n');
  return { head: raw.slice(0, at).replace(/\r\n[ \t]+/g, ' '), body: raw.slice(at + 4) };
}
const header = (head: string, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1];

describeEachDb(
  'sending email',
  (ctx) => {
    let owner: { id: string; role: 'USER' | 'ADMIN'; name: string };
    before(async () => {
      const u = await ctx().user({ name: 'Ada Lovelace' });
      owner = { id: u.id, role: 'USER', name: u.name };
    });

    async function enabledMailbox(o: { smtp?: 'STARTTLS' | 'SSL' } = {}) {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w, { smtp: o.smtp });
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: owner.id, profileId: profile.id });
      return prisma.mailbox.update({
        where: { id: mb.id },
        data: { enabledForOutgoing: true, outgoingStatus: 'SUCCESS' },
      });
    }

    const input = (mailboxId: string, o: Record<string, string> = {}) =>
      composeSchema.parse({
        submissionId: randomUUID(),
        mailboxId,
        to: 'Grace Hopper <grace@example.org>, bob@example.net',
        cc: 'carol@example.com',
        bcc: 'secret@example.com',
        subject: 'Quarterly report',
        text: 'Hello,\n\nthe report is attached in spirit.\n\nAda',
        ...o,
      });
    const queue = (c: TestContext, i: ReturnType<typeof input>) =>
      queueEmail({ prisma: c.db.prisma, jobs: c.jobs }, owner, i);
    const final = (c: TestContext, id: string) =>
      waitFor(`a final status of email ${id}`, async () => {
        const e = await c.db.prisma.email.findUniqueOrThrow({ where: { id } });
        return e.status === 'PENDING_SEND' || e.status === 'SENDING' ? undefined : e;
      });
    const received = (address: string) => w.mail.smtp.messages.filter((m) => m.from === address);

    test('XOAUTH2 over STARTTLS: the server receives exactly one message with our Message-ID, headers and body', async () => {
      const mb = await enabledMailbox();
      const q = await queue(ctx(), input(mb.id));
      const e = await final(ctx(), q.id);
      assert.equal(e.status, 'SENT', `${e.errorCode} ${e.errorMessage}`);
      assert.match(e.smtpResponse ?? '', /^250 2\.0\.0 OK/);
      assert.ok(e.sentAt);
      assert.equal(e.attempts, 1);
      const got = received(mb.emailAddress);
      assert.equal(got.length, 1);
      const [m] = got;
      assert.equal(m.user, mb.emailAddress); // signed in as the mailbox, with its access token
      assert.deepEqual(m.to.sort(), [
        'bob@example.net',
        'carol@example.com',
        'grace@example.org',
        'secret@example.com',
      ]);
      const { head, body } = split(m.raw);
      assert.equal(header(head, 'Message-ID'), e.messageId);
      assert.match(e.messageId, /^<[0-9a-f-]{36}@gmail\.test>$/);
      assert.equal(header(head, 'From'), `Ada Lovelace <${mb.emailAddress}>`);
      assert.equal(header(head, 'To'), 'Grace Hopper <grace@example.org>, bob@example.net');
      assert.equal(header(head, 'Cc'), 'carol@example.com');
      assert.equal(header(head, 'Bcc'), undefined); // Bcc travels in the envelope only
      assert.equal(header(head, 'Subject'), 'Quarterly report');
      assert.match(body.replace(/\r\n/g, '\n'), /Hello,\n\nthe report is attached in spirit\.\n\nAda/);
    });

    test('implicit TLS (465) with a credentials profile: signs in with the app password', async () => {
      const { prisma } = ctx().db;
      const profile = await prisma.emailServerProfile.create({
        data: {
          name: `Creds ${randomUUID().slice(0, 6)}`,
          incomingServer: '127.0.0.1',
          incomingPort: w.mail.imap.port,
          outgoingServer: '127.0.0.1',
          outgoingPort: w.mail.smtp.implicitTlsPort,
          outgoingSecurity: 'SSL',
          authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        },
      });
      const address = `creds-${randomUUID().slice(0, 8)}@gmail.test`;
      w.mail.accounts.set(address, { password: 'app-password-1' });
      const mb = await prisma.mailbox.create({
        data: {
          name: address,
          emailAddress: address,
          ownerId: owner.id,
          profileId: profile.id,
          emailApproval: 'APPROVED',
          enabledForOutgoing: true,
          credentialUsername: address,
          credentialPassword: ctx().sealer.seal('app-password-1', SEALED.mailboxPassword),
        },
      });
      const q = await queue(ctx(), input(mb.id, { cc: '', bcc: '' }));
      const e = await final(ctx(), q.id);
      assert.equal(e.status, 'SENT', `${e.errorCode} ${e.errorMessage}`);
      const got = received(address);
      assert.equal(got.length, 1);
      assert.equal(got[0].user, address);
    });

    test('revoked token → Failed with "Sign in to Gmail again", at once: no retry, nothing sent', async () => {
      const mb = await enabledMailbox();
      await ctx().db.prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: { accessTokenExpiresAt: new Date(Date.now() - 1000) },
      });
      w.google.revokeAllFor(mb.emailAddress);
      const q = await queue(ctx(), input(mb.id));
      const e = await final(ctx(), q.id);
      assert.equal(e.status, 'FAILED');
      assert.equal(e.errorCode, 'TOKEN_REVOKED');
      assert.match(e.errorHint ?? '', /Sign in to Gmail again/);
      assert.equal(e.attempts, 1);
      assert.equal(e.nextAttemptAt, null);
      assert.equal(received(mb.emailAddress).length, 0);
    });

    test('454 twice, then accepted: Sent on the third attempt, the retries visible meanwhile', async () => {
      const mb = await enabledMailbox();
      w.mail.smtp.setTransient(454, 2);
      try {
        const q = await queue(ctx(), input(mb.id));
        const retrying = await waitFor('a retry recorded on the email', async () => {
          const e = await ctx().db.prisma.email.findUniqueOrThrow({ where: { id: q.id } });
          return e.errorCode === 'SMTP_TEMPORARY' || e.status === 'SENT' ? e : undefined;
        });
        assert.equal(retrying.errorCode, 'SMTP_TEMPORARY');
        const e = await final(ctx(), q.id);
        assert.equal(e.status, 'SENT', `${e.errorCode} ${e.errorMessage}`);
        assert.equal(e.attempts, 3);
        assert.equal(e.errorCode, null);
        assert.equal(received(mb.emailAddress).length, 1);
      } finally {
        w.mail.smtp.setTransient(null);
      }
    });

    test('the same form submitted twice at once, and a stray second job: one email, one message', async () => {
      const mb = await enabledMailbox();
      const i = input(mb.id);
      const [a, b] = await Promise.all([queue(ctx(), i), queue(ctx(), i)]);
      assert.equal(a.id, b.id);
      assert.equal([a.duplicate, b.duplicate].filter(Boolean).length, 1);
      // Another job for the same email (a double delivery): the claim lets only one send.
      await ctx().jobs!.boss.send(SEND_QUEUE, { emailId: a.id });
      const e = await final(ctx(), a.id);
      assert.equal(e.status, 'SENT');
      await ctx().jobs!.boss.send(SEND_QUEUE, { emailId: a.id });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await ctx().db.prisma.email.count({ where: { id: a.id } }), 1);
      assert.equal(received(mb.emailAddress).length, 1);
      assert.equal((await ctx().db.prisma.email.findUniqueOrThrow({ where: { id: a.id } })).attempts, 1);
    });

    test('a mailbox not enabled, not approved or without a grant refuses; a queued email then fails with the reason', async () => {
      const { prisma } = ctx().db;
      const mb = await enabledMailbox();
      await prisma.mailbox.update({ where: { id: mb.id }, data: { enabledForOutgoing: false } });
      await assert.rejects(queue(ctx(), input(mb.id)), (e: unknown) => {
        assert.ok(e instanceof ComposeError);
        assert.match(e.errors.mailboxId, /not enabled for outgoing/);
        return true;
      });
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: { enabledForOutgoing: true, emailApproval: 'PENDING' },
      });
      await assert.rejects(queue(ctx(), input(mb.id)), /not approved/);
      await prisma.mailbox.update({ where: { id: mb.id }, data: { emailApproval: 'APPROVED' } });
      // Queued while the worker is busy elsewhere; the grant goes before the job runs.
      const stopped = await ctx().jobs!.boss.getQueue(SEND_QUEUE);
      assert.ok(stopped);
      const other = await enabledMailbox();
      await prisma.gmailGrant.delete({ where: { mailboxId: other.id } }).catch(() => undefined);
      await assert.rejects(queue(ctx(), input(other.id)), /not signed in to Gmail/);
      const q = await queue(ctx(), input(mb.id));
      await prisma.gmailGrant.delete({ where: { mailboxId: mb.id } });
      const e = await final(ctx(), q.id);
      // Either the job ran first (Sent) or it found the grant gone (Failed with the reason): never waiting forever.
      if (e.status === 'FAILED') {
        assert.equal(e.errorCode, 'NO_GRANT');
        assert.match(e.errorHint ?? '', /Sign in to Gmail/);
      } else assert.equal(e.status, 'SENT');
    });

    test('Test & Enable with "Send a test message to myself": stored on the run, really sent, reported as a step', async () => {
      const { prisma } = ctx().db;
      const mb = await enabledMailbox();
      const r = await ctx().deps.tests!.request([mb.id], owner.id, undefined, { sendTestMessage: true });
      assert.deepEqual(r.queued, [mb.id]);
      const run = await waitFor('the test run to finish', async () => {
        const t = await prisma.testRun.findFirst({
          where: { mailboxId: mb.id, status: { in: ['SUCCESS', 'FAILURE'] } },
        });
        return t ?? undefined;
      });
      assert.equal(run.sendTestMessage, true);
      const steps = run.steps as unknown as { id: string; status: string; message?: string }[];
      const step = steps.find((s) => s.id === 'outgoing-message');
      assert.equal(step?.status, 'ok', JSON.stringify(steps));
      assert.match(step?.message ?? '', new RegExp(mb.emailAddress));
      const got = received(mb.emailAddress);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].to, [mb.emailAddress]);
      assert.match(got[0].raw, /Subject: Mailroom test message/);
      const after = await prisma.mailbox.findUniqueOrThrow({ where: { id: mb.id } });
      assert.equal(after.outgoingStatus, 'SUCCESS');
    });

    test('the sent message seen later by the incoming sync (Sent Mail) is matched by Message-ID, not stored twice', async () => {
      const { prisma } = ctx().db;
      const mb = await enabledMailbox();
      const q = await queue(ctx(), input(mb.id));
      const e = await final(ctx(), q.id);
      assert.equal(e.status, 'SENT');
      const raw = Buffer.from(received(mb.emailAddress)[0].raw);
      const reg = await registerProcess(ctx().db, {
        role: 'worker',
        timing: { heartbeatMs: 60_000, deadAfterMs: 180_000 },
      });
      try {
        await prisma.mailbox.update({ where: { id: mb.id }, data: { enabledForIncoming: true } });
        await ensureSyncRows(ctx().db.raw);
        const claimed = await claimMailboxes(ctx().db.raw, reg.id, 1000, 180);
        assert.ok(claimed.some((c) => c.id === mb.id));
        const r = await ingest(ctx().db, {
          mailboxId: mb.id,
          ownerId: reg.id,
          messages: [{ raw, imap: { uidValidity: 7n, uid: 42n } }],
        });
        assert.deepEqual([r.stored.length, r.failed.length, r.duplicates], [0, 0, 1]);
        const rows = await prisma.email.findMany({ where: { mailboxId: mb.id } });
        assert.equal(rows.length, 1);
        assert.equal(rows[0].direction, 'OUTGOING');
        assert.equal(rows[0].status, 'SENT');
      } finally {
        await reg.stop();
      }
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: { mailTlsCa: w.mail.ca, sends: { retryBaseMs: 300, ...PATIENT_PROBES } },
  },
);
