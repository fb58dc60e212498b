// Test & Enable Mailbox end to end below the pages: the real job on pg-boss, the Google fake and real
// IMAP/POP3/SMTP servers on loopback, on both databases.
import { randomUUID } from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { LEGACY_TEST_QUEUE, TEST_QUEUE, TEST_WAKE_CHANNEL, type MailboxTests } from '../../src/checks/job.ts';
import { createNotifier } from '../../src/cluster/notify.ts';
import { mailboxes } from '../helpers/mailbox-factory.ts';
import { claimRun } from '../../src/checks/worker.ts';
import { testMailboxSelect } from '../../src/checks/run.ts';
import { drainLegacyQueue } from '../../src/checks/recovery.ts';
import type { Step } from '../../src/mail/types.ts';
import { startImapServer } from '../fakes/mail/imap-server.ts';
import { bearerVerifierFrom } from '../fakes/mail/world.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const w: GmailWorld = await startGmailWorld();
after(() => w.close());

const tests = (ctx: TestContext): MailboxTests => ctx.deps.tests!;

/** The mailbox once neither side is Pending any more (polls; retries keep it Pending until the last attempt). */
const waitFinal = (ctx: TestContext, id: string) =>
  waitFor(`a final status of mailbox ${id}`, async () => {
    const mb = await ctx.db.prisma.mailbox.findUniqueOrThrow({ where: { id } });
    return mb.incomingStatus !== 'PENDING' && mb.outgoingStatus !== 'PENDING' ? mb : undefined;
  });
const lastSteps = async (ctx: TestContext, mailboxId: string) =>
  (
    await ctx.db.prisma.testRun.findFirstOrThrow({
      where: { mailboxId, status: { in: ['SUCCESS', 'FAILURE'] } },
      orderBy: { finishedAt: 'desc' },
    })
  ).steps as unknown as Step[];

describeEachDb(
  'Test & Enable job',
  (ctx) => {
    let ownerId: string;
    before(async () => {
      ownerId = (await ctx().user()).id;
    });

    test('IMAP/SMTP (STARTTLS): refreshes an expired token, passes every step, enables the mailbox', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        expired: true,
      });
      const refreshes = w.google.stats().refreshes;
      const r = await tests(ctx()).request([mb.id], null);
      assert.deepEqual(r.queued, [mb.id]);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'SUCCESS');
      assert.equal(done.outgoingStatus, 'SUCCESS');
      assert.equal(done.enabledForIncoming, true);
      assert.equal(done.enabledForOutgoing, true);
      assert.equal(w.google.stats().refreshes, refreshes + 1);
      const steps = await lastSteps(ctx(), mb.id);
      assert.deepEqual(
        steps.map((s) => [s.id, s.status]),
        [
          ['token', 'ok'],
          ['account', 'ok'],
          ['incoming-login', 'ok'],
          ['incoming-mailbox', 'ok'],
          ['outgoing-login', 'ok'],
        ],
      );
      const alert = await prisma.alert.findFirstOrThrow({
        where: { mailboxId: mb.id },
        orderBy: { createdAt: 'desc' },
      });
      assert.equal(alert.level, 'INFO');
      assert.equal(w.mail.smtp.messages.length, 0); // verify only: nothing is sent
    });

    test('the outcome is one write: run, mailbox, alert and audit entry carry the same instant and the run’s data', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      await tests(ctx()).request([mb.id], ownerId);
      const done = await waitFinal(ctx(), mb.id);
      const run = await prisma.testRun.findFirstOrThrow({ where: { mailboxId: mb.id } });
      const alert = await prisma.alert.findFirstOrThrow({ where: { mailboxId: mb.id } });
      const entry = await prisma.auditEvent.findFirstOrThrow({
        where: { targetId: mb.id, action: 'mailbox.test-enable', details: { path: ['step'], equals: 'outcome' } },
      });
      assert.equal(run.status, 'SUCCESS');
      assert.equal((run.steps as unknown as Step[]).length, 5);
      // One statement, one instant (decision 034): a transaction of separate writes stamped each one on its own.
      const at = run.finishedAt!.getTime();
      assert.equal(done.lastTestCompletedAt?.getTime(), at);
      assert.equal(done.updatedAt.getTime(), at);
      assert.equal(alert.createdAt.getTime(), at);
      assert.equal(entry.at.getTime(), at);
      assert.ok(Math.abs(at - Date.now()) < 60_000, 'stored as UTC, like Prisma');
      assert.deepEqual(
        [done.retryCount, done.nextRetryAt, done.enabledForIncoming, done.enabledForOutgoing],
        [0, null, true, true],
      );
      assert.deepEqual([alert.level, alert.code, alert.hint], ['INFO', 'ENABLED', '']);
      assert.deepEqual(
        [entry.actorId, entry.actorEmail, entry.result, entry.targetType, entry.ip],
        [ownerId, null, 'SUCCESS', 'Mailbox', null],
      );
      assert.deepEqual(entry.details, {
        step: 'outcome',
        attempts: 1,
        incomingStatus: 'SUCCESS',
        outgoingStatus: 'SUCCESS',
        enabledForIncoming: true,
        enabledForOutgoing: true,
        code: 'ENABLED',
      });
    });

    test('a large request queues a first small batch, then batches of 100, so workers start while the rest is queued', async () => {
      const { prisma } = ctx().db;
      const many = await mailboxes(prisma, 157, { ownerId });
      // Each transaction NOTIFYs the number of jobs it queued, on commit (the wake-up of work-at-once.ts).
      const notifier = createNotifier(ctx().db);
      const payloads: string[] = [];
      const unlisten = await notifier.listen(TEST_WAKE_CHANNEL, (p) => payloads.push(p));
      try {
        const r = await tests(ctx()).request(
          many.map((m) => m.id),
          null,
        );
        assert.equal(r.queued.length, many.length);
        // Without a profile every run fails at once; by then both commits' notifications have arrived.
        for (const m of many) await waitFinal(ctx(), m.id);
        // PGlite's one connection serves no worker during a transaction: small ones let jobs in between.
        assert.deepEqual(payloads, ['50', '100', '7']);
      } finally {
        unlisten();
        await notifier.close();
      }
    });

    test('the claim reads the mailbox and its profile in its own statement, exactly as Prisma reads them', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w, { serverType: 'POP3', smtp: 'SSL' });
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      await prisma.mailbox.update({ where: { id: mb.id }, data: { credentialUsername: 'u', retryCount: 2 } });
      const bare = await prisma.mailbox.create({
        data: { name: 'No profile', emailAddress: `bare-${randomUUID()}@example.test`, ownerId, profileId: null },
      });
      // A live process as the runner: crash recovery (running in this suite) puts back a run of an unknown one.
      const runner = (await prisma.workerProcess.findFirstOrThrow({ orderBy: { heartbeatAt: 'desc' } })).id;
      const [jobA, jobB] = [randomUUID(), randomUUID()];
      await prisma.testRun.create({
        data: {
          mailboxId: mb.id,
          status: 'QUEUED',
          jobId: jobA,
          attempt: 2,
          sendTestMessage: true,
          requestedBy: ownerId,
        },
      });
      const runB = await prisma.testRun.create({ data: { mailboxId: bare.id, status: 'QUEUED', jobId: jobB } });
      for (const [jobId, mailboxId] of [
        [jobA, mb.id],
        [jobB, bare.id],
      ]) {
        const claimed = await claimRun(ctx().db.raw, jobId, runner);
        assert.ok(claimed);
        assert.deepEqual(
          claimed.mailbox,
          await prisma.mailbox.findUniqueOrThrow({ where: { id: mailboxId }, select: testMailboxSelect }),
        );
        const row = await prisma.testRun.findFirstOrThrow({ where: { jobId } });
        assert.deepEqual([row.status, row.runnerProcessId], ['RUNNING', runner]);
        assert.deepEqual(claimed.run, {
          id: row.id,
          mailboxId,
          attempt: row.attempt,
          requestedBy: row.requestedBy,
          sendTestMessage: row.sendTestMessage,
        });
        assert.equal(await claimRun(ctx().db.raw, jobId, runner), undefined, 'a run is claimed once');
      }
      assert.equal(runB.attempt, 1);
      assert.equal(await claimRun(ctx().db.raw, randomUUID(), runner), undefined, 'no run names this job');
    });

    test('POP3/SMTP (SSL): success; POP disabled is caught at STAT', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w, { serverType: 'POP3', smtp: 'SSL' });
      const ok = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      const off = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      w.mail.accounts.set(off.emailAddress, { popEnabled: false });
      await tests(ctx()).request([ok.id, off.id], null);
      const a = await waitFinal(ctx(), ok.id);
      const b = await waitFinal(ctx(), off.id);
      assert.equal(a.incomingStatus, 'SUCCESS');
      assert.equal(a.outgoingStatus, 'SUCCESS');
      assert.ok(a.enabledForIncoming);
      assert.equal(b.incomingStatus, 'FAILURE');
      assert.equal(b.outgoingStatus, 'SUCCESS');
      assert.equal(b.enabledForIncoming, false);
      assert.equal(b.enabledForOutgoing, true);
      const steps = await lastSteps(ctx(), off.id);
      assert.deepEqual(steps.find((s) => s.id === 'incoming-login')?.status, 'ok');
      const stat = steps.find((s) => s.id === 'incoming-mailbox')!;
      assert.equal(stat.code, 'POP_DISABLED');
      assert.match(stat.hint!, /Enable POP/);
    });

    test('IMAP disabled → IMAP_DISABLED with the Gmail setting to turn on; no retry', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      // Incoming only: a transient SMTP failure (a timeout under load) would rightly retry the outgoing side.
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        outgoing: false,
      });
      w.mail.accounts.set(mb.emailAddress, { imapEnabled: false });
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'FAILURE');
      const step = (await lastSteps(ctx(), mb.id)).find((s) => s.status === 'fail')!;
      assert.equal(step.code, 'IMAP_DISABLED');
      assert.match(step.hint!, /Enable IMAP/);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
    });

    test('revoked token → TOKEN_REVOKED, permanent: no retry, mailbox disabled, hint mentions Testing apps', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        expired: true,
      });
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: { enabledForIncoming: true, enabledForOutgoing: true },
      });
      w.google.revokeAllFor(mb.emailAddress);
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'FAILURE');
      assert.equal(done.outgoingStatus, 'FAILURE');
      assert.equal(done.enabledForIncoming, false);
      assert.equal(done.enabledForOutgoing, false);
      const step = (await lastSteps(ctx(), mb.id))[0];
      assert.equal(step.code, 'TOKEN_REVOKED');
      assert.match(step.hint!, /Sign in to Gmail again/);
      assert.match(step.hint!, /7 days/);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
    });

    test('Gmail refuses a cached token that has not expired: one refresh, the login is retried, success', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      const grant = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mb.id } });
      const cached = ctx().sealer.open(grant.accessToken, 'grant.accessToken');
      // Google invalidated it early (password change, revoked session): the stored expiry is still an hour away.
      w.google.expireAccessToken(cached);
      assert.ok(grant.accessTokenExpiresAt.getTime() > Date.now() + 10 * 60_000);
      const refreshes = w.google.stats().refreshes;
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'SUCCESS');
      assert.equal(done.outgoingStatus, 'SUCCESS');
      assert.equal(done.enabledForIncoming, true);
      assert.equal(w.google.stats().refreshes, refreshes + 1, 'exactly one refresh, though both sides were refused');
      const steps = await lastSteps(ctx(), mb.id);
      assert.match(steps[0].message ?? '', /refreshed after Gmail refused the stored one/);
      assert.deepEqual(
        steps.map((s) => s.status),
        ['ok', 'ok', 'ok', 'ok', 'ok'],
      );
      const now = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mb.id } });
      assert.notEqual(ctx().sealer.open(now.accessToken, 'grant.accessToken'), cached, 'the new token is stored');
      assert.equal(now.signInRequiredAt, null);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1, 'no retry run was needed');
    });

    test('a revoked grant whose cached token has not expired → TOKEN_REVOKED, sign-in required, mailbox disabled', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: { enabledForIncoming: true, enabledForOutgoing: true },
      });
      w.google.revokeAllFor(mb.emailAddress);
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'FAILURE');
      assert.equal(done.outgoingStatus, 'FAILURE');
      assert.equal(done.enabledForIncoming, false);
      assert.equal(done.enabledForOutgoing, false);
      const steps = await lastSteps(ctx(), mb.id);
      const token = steps.find((s) => s.id === 'token')!;
      assert.equal(token.status, 'fail');
      assert.equal(token.code, 'TOKEN_REVOKED');
      assert.match(
        token.message ?? '',
        /Gmail refused the stored access token, and Google refused to refresh the access token: invalid_grant/,
      );
      assert.ok(!steps.some((s) => s.code === 'AUTH_FAILED'), 'the vague code is not reported');
      const alert = await prisma.alert.findFirstOrThrow({
        where: { mailboxId: mb.id },
        orderBy: { createdAt: 'desc' },
      });
      assert.equal(alert.code, 'TOKEN_REVOKED', 'not the vague AUTH_FAILED');
      assert.match(alert.hint ?? '', /Sign in to Gmail again/);
      const grant = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mb.id } });
      assert.ok(grant.signInRequiredAt, 'the grant is marked as needing sign-in');
      assert.equal(grant.signInRequiredCode, 'TOKEN_REVOKED');
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1, 'permanent: no retry');
    });

    test('token endpoint fails twice with 500, then answers → success after retries', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        expired: true,
      });
      w.google.failTokenEndpoint(2, 500);
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'SUCCESS');
      const runs = await prisma.testRun.findMany({ where: { mailboxId: mb.id }, orderBy: { attempt: 'asc' } });
      assert.deepEqual(
        runs.map((r) => [r.attempt, r.status]),
        [
          [1, 'RETRYING'],
          [2, 'RETRYING'],
          [3, 'SUCCESS'],
        ],
      );
      const warnings = await prisma.alert.findMany({ where: { mailboxId: mb.id, level: 'WARNING' } });
      assert.match(warnings[0].message, /Retry 1 of 3 at /);
    });

    test('a server that accepts TCP and never answers does not hold up the other mailboxes', async () => {
      const { prisma } = ctx().db;
      const silent = await startImapServer({
        verifyBearer: bearerVerifierFrom((t) => w.google.verifyAccessToken(t)),
        accounts: w.mail.accounts,
        mode: 'silent',
      });
      const slowProfile = await createGmailProfile(prisma, ctx().sealer, w);
      await prisma.emailServerProfile.update({ where: { id: slowProfile.id }, data: { incomingPort: silent.port } });
      const fastProfile = await createGmailProfile(prisma, ctx().sealer, w);
      const slow = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: slowProfile.id });
      const fast = await Promise.all(
        [0, 1, 2].map(() => createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: fastProfile.id })),
      );
      try {
        await tests(ctx()).request([slow.id, ...fast.map((m) => m.id)], null);
        for (const m of fast) assert.equal((await waitFinal(ctx(), m.id)).incomingStatus, 'SUCCESS');
        // The probes' timeouts are 30 s and more, so the silent server is still being waited on.
        assert.equal(
          (await prisma.mailbox.findUniqueOrThrow({ where: { id: slow.id } })).incomingStatus,
          'PENDING',
          'the silent server must not hold up the others',
        );
      } finally {
        await silent.close();
      }
      // The server went away (closed sockets, then a refused port): the slow mailbox ends too, after its retries.
      const done = await waitFinal(ctx(), slow.id);
      assert.equal(done.incomingStatus, 'FAILURE');
      assert.equal(done.outgoingStatus, 'SUCCESS');
    });

    test("the profile's Maximum Concurrent Connections caps connections to its servers", async () => {
      const { prisma } = ctx().db;
      // An IMAP server of its own: its high-water mark counts only this profile's connections.
      const imap = await startImapServer({
        verifyBearer: bearerVerifierFrom((t) => w.google.verifyAccessToken(t)),
        accounts: w.mail.accounts,
        delayMs: 150,
      });
      try {
        const profile = await createGmailProfile(prisma, ctx().sealer, w, { maxConcurrentConnections: 2 });
        await prisma.emailServerProfile.update({ where: { id: profile.id }, data: { incomingPort: imap.port } });
        const ids = [];
        for (let i = 0; i < 6; i++)
          ids.push(
            (await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id, outgoing: false }))
              .id,
          );
        await tests(ctx()).request(ids, null);
        for (const id of ids) assert.equal((await waitFinal(ctx(), id)).incomingStatus, 'SUCCESS');
        assert.equal(imap.stats().connections, 6, 'one IMAP connection per mailbox test');
        assert.ok(imap.stats().maxConcurrent <= 2, `peak ${imap.stats().maxConcurrent} concurrent IMAP connections`);
        assert.equal(imap.stats().maxConcurrent, 2);
      } finally {
        await imap.close();
      }
    });

    test('credentials profile: IMAP and SMTP log in with the mailbox user name and password; a wrong one is AUTH_FAILED', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      await prisma.emailServerProfile.update({
        where: { id: profile.id },
        data: { authenticateUsing: 'CREDENTIALS_PER_MAILBOX', oauthClientId: null, oauthClientSecret: null },
      });
      const make = async (password: string) => {
        const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
        w.mail.accounts.set(mb.emailAddress, { password: 'app-password-1234' });
        return prisma.mailbox.update({
          where: { id: mb.id },
          data: {
            credentialUsername: mb.emailAddress,
            credentialPassword: ctx().sealer.seal(password, 'mailbox.credentialPassword'),
          },
        });
      };
      const good = await make('app-password-1234');
      const bad = await make('wrong-password');
      await tests(ctx()).request([good.id, bad.id], null);
      const g = await waitFinal(ctx(), good.id);
      assert.equal(g.incomingStatus, 'SUCCESS');
      assert.equal(g.outgoingStatus, 'SUCCESS');
      const steps = await lastSteps(ctx(), good.id);
      assert.deepEqual(
        steps.map((s) => [s.id, s.status]),
        [
          ['token', 'skip'],
          ['account', 'ok'],
          ['incoming-login', 'ok'],
          ['incoming-mailbox', 'ok'],
          ['outgoing-login', 'ok'],
        ],
      );
      const b = await waitFinal(ctx(), bad.id);
      assert.equal(b.incomingStatus, 'FAILURE');
      assert.equal((await lastSteps(ctx(), bad.id)).find((s) => s.id === 'incoming-login')?.code, 'AUTH_FAILED');
    });

    test('not approved → checks pass but the mailbox is not enabled', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        approved: false,
      });
      await tests(ctx()).request([mb.id], null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'SUCCESS');
      assert.equal(done.outgoingStatus, 'SUCCESS');
      assert.equal(done.enabledForIncoming, false);
      assert.equal(done.enabledForOutgoing, false);
      const alert = await prisma.alert.findFirstOrThrow({
        where: { mailboxId: mb.id },
        orderBy: { createdAt: 'desc' },
      });
      assert.equal(alert.code, 'NOT_APPROVED');
    });

    test('double Test & Enable makes one job', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      const [a, b] = await Promise.all([tests(ctx()).request([mb.id], null), tests(ctx()).request([mb.id], null)]);
      assert.equal(a.queued.length + b.queued.length, 1);
      assert.equal(a.alreadyQueued.length + b.alreadyQueued.length, 1);
      await waitFinal(ctx(), mb.id);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
    });

    test('a request while the run is running answers "already running" and makes no second run', async () => {
      const { prisma } = ctx().db;
      // An IMAP server of its own whose every answer takes a while: the run is still RUNNING when asked again.
      const slow = await startImapServer({
        verifyBearer: bearerVerifierFrom((t) => w.google.verifyAccessToken(t)),
        accounts: w.mail.accounts,
        delayMs: 1500,
      });
      try {
        const profile = await createGmailProfile(prisma, ctx().sealer, w);
        await prisma.emailServerProfile.update({ where: { id: profile.id }, data: { incomingPort: slow.port } });
        const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
        assert.deepEqual((await tests(ctx()).request([mb.id], null)).queued, [mb.id]);
        await waitFor('the run to be RUNNING', async () =>
          (await prisma.testRun.count({ where: { mailboxId: mb.id, status: 'RUNNING' } })) ? true : undefined,
        );
        const again = await tests(ctx()).request([mb.id], null);
        assert.deepEqual(again, { queued: [], alreadyQueued: [mb.id] });
        assert.equal((await waitFinal(ctx(), mb.id)).incomingStatus, 'SUCCESS');
        assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
        const refused = await prisma.auditEvent.findMany({
          where: { action: 'mailbox.test-enable', targetId: mb.id, result: 'FAILURE' },
        });
        assert.equal(refused.length, 1, 'the refused request is audited');
      } finally {
        await slow.close();
      }
    });

    test('ten truly concurrent requests for one mailbox make one run', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      const answers = await Promise.all(Array.from({ length: 10 }, () => tests(ctx()).request([mb.id], null)));
      assert.equal(answers.filter((a) => a.queued.length === 1).length, 1, JSON.stringify(answers));
      assert.equal(answers.filter((a) => a.alreadyQueued.length === 1).length, 9);
      await waitFinal(ctx(), mb.id);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
      // Once it finished, a new request is taken.
      assert.deepEqual((await tests(ctx()).request([mb.id], null)).queued, [mb.id]);
      await waitFor('the second run to finish', async () =>
        (await prisma.testRun.count({ where: { mailboxId: mb.id, status: { in: ['SUCCESS', 'FAILURE'] } } })) === 2
          ? true
          : undefined,
      );
    });

    test("jobs waiting in decision 005's stately queue are moved to the new queue and run", async () => {
      const { prisma } = ctx().db;
      const boss = ctx().jobs!.boss;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId, profileId: profile.id });
      // What the previous version left: a stately queue with a job, a QUEUED run without a job id, Pending statuses.
      await boss.createQueue(LEGACY_TEST_QUEUE, { policy: 'stately' });
      await boss.send(LEGACY_TEST_QUEUE, { mailboxId: mb.id }, { singletonKey: mb.id });
      await prisma.testRun.create({ data: { mailboxId: mb.id, status: 'QUEUED', attempt: 1 } });
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: { incomingStatus: 'PENDING', outgoingStatus: 'PENDING' },
      });
      assert.equal(await drainLegacyQueue({ prisma, boss: () => boss, logger: ctx().deps.logger }), 1);
      assert.equal(await boss.getQueue(LEGACY_TEST_QUEUE), null);
      const done = await waitFinal(ctx(), mb.id);
      assert.equal(done.incomingStatus, 'SUCCESS');
      const runs = await prisma.testRun.findMany({ where: { mailboxId: mb.id } });
      assert.deepEqual(
        runs.map((r) => r.status),
        ['SUCCESS'],
      );
    });

    test('no token appears in job payloads or logs', async () => {
      const { prisma } = ctx().db;
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId,
        profileId: profile.id,
        expired: true,
      });
      await tests(ctx()).request([mb.id], null);
      await waitFinal(ctx(), mb.id);
      const jobs = await ctx().db.raw.query<{ data: unknown }>(`SELECT data FROM pgboss.job WHERE name = $1`, [
        TEST_QUEUE,
      ]);
      for (const j of jobs) assert.deepEqual(Object.keys(j.data as object), ['mailboxId']);
      const grant = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mb.id } });
      const access = ctx().sealer.open(grant.accessToken, 'grant.accessToken');
      const refresh = ctx().sealer.open(grant.refreshToken!, 'grant.refreshToken');
      const logs = ctx().logs.join('');
      assert.ok(logs.includes('Gmail access token refreshed'));
      assert.ok(!logs.includes(access));
      assert.ok(!logs.includes(refresh));
      assert.ok(!logs.includes(w.clientSecret));
      const runs = JSON.stringify(await prisma.testRun.findMany());
      assert.ok(!runs.includes(access));
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: { mailTlsCa: w.mail.ca, checks: { retryBaseMs: 50, pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } },
  },
);

// About timeouts, so the timeout is short, and certain: the server never says a word. Nothing else in this
// suite talks to a mail server (no outgoing side), so the short timeout cannot hit a healthy server.
describeEachDb(
  'Test & Enable job: a silent server',
  (ctx) => {
    test('a server that accepts TCP and never answers → TIMEOUT on every attempt, then FAILURE', async () => {
      const { prisma } = ctx().db;
      const ownerId = (await ctx().user()).id;
      const silent = await startImapServer({
        verifyBearer: bearerVerifierFrom((t) => w.google.verifyAccessToken(t)),
        accounts: w.mail.accounts,
        mode: 'silent',
      });
      try {
        const profile = await createGmailProfile(prisma, ctx().sealer, w);
        await prisma.emailServerProfile.update({ where: { id: profile.id }, data: { incomingPort: silent.port } });
        const mb = await createConnectedMailbox(prisma, ctx().sealer, w, {
          ownerId,
          profileId: profile.id,
          outgoing: false,
        });
        await tests(ctx()).request([mb.id], null);
        const done = await waitFinal(ctx(), mb.id);
        assert.equal(done.incomingStatus, 'FAILURE');
        assert.equal(done.outgoingStatus, 'NOT_RUN');
        const runs = await prisma.testRun.findMany({ where: { mailboxId: mb.id }, orderBy: { attempt: 'asc' } });
        assert.deepEqual(
          runs.map((r) => r.status),
          ['RETRYING', 'RETRYING', 'RETRYING', 'FAILURE'],
        );
        for (const r of runs) {
          const login = (r.steps as unknown as Step[]).find((s) => s.id === 'incoming-login')!;
          assert.equal(login.code, 'TIMEOUT');
          assert.equal(login.transient, true);
        }
        // After "retry 3 of 3" nothing may promise another try: the final alert and step say it stopped, and what to do.
        const final = await prisma.alert.findFirstOrThrow({
          where: { mailboxId: mb.id, level: 'ERROR' },
          orderBy: { createdAt: 'desc' },
        });
        assert.equal(final.code, 'TIMEOUT');
        assert.match(final.message, /Gave up after 4 attempts\./);
        assert.doesNotMatch(final.hint ?? '', /will try again/);
        assert.match(final.hint ?? '', /tried 4 times and stopped trying\. Check the port/);
        const lastLogin = (runs[3].steps as unknown as Step[]).find((s) => s.id === 'incoming-login')!;
        assert.doesNotMatch(lastLogin.hint ?? '', /will try again/);
        const warnings = await prisma.alert.findMany({ where: { mailboxId: mb.id, level: 'WARNING' } });
        assert.equal(warnings.length, 3, 'one warning per retry');
      } finally {
        await silent.close();
      }
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: {
      mailTlsCa: w.mail.ca,
      checks: {
        retryBaseMs: 50,
        pollingIntervalSeconds: 0.5,
        connectTimeoutMs: 500,
        totalTimeoutMs: PATIENT_PROBES.totalTimeoutMs,
      },
    },
  },
);
