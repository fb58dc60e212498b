// The Gmail panel and the list tell the truth about a sign-in: refused by Google (sign in again), disconnected
// (out of service, with an alert), and a Testing-status app's days left; and the grant writes record when each
// refresh token was issued.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { failure } from '../../src/mail/hints.ts';

const w = await startGmailWorld();
after(() => w.close());

const DAY = 86_400_000;
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&#34;');

async function mine(ctx: TestContext, o: { testing?: boolean } = {}) {
  const { prisma } = ctx.db;
  const { client, user } = await ctx.signedIn('USER');
  const profile = await createGmailProfile(prisma, ctx.sealer, w);
  if (o.testing)
    await prisma.emailServerProfile.update({ where: { id: profile.id }, data: { googleAppInTesting: true } });
  const mb = await createConnectedMailbox(prisma, ctx.sealer, w, { ownerId: user.id, profileId: profile.id });
  return { client, user, profile, mb };
}

describeEachDb(
  'Gmail panel and list',
  (ctx) => {
    test('after invalid_grant the panel says sign-in is needed, with the hint and the button; the list says Sign in again', async () => {
      const { prisma } = ctx().db;
      const { client, mb } = await mine(ctx());
      const before = await client.get(`/mailboxes/${mb.id}`);
      assert.match(before.text, /Yes \(refresh token stored\)/);
      // What the synchronization and Test & Enable write when a refresh is answered invalid_grant.
      await prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: { signInRequiredAt: new Date(), signInRequiredCode: 'TOKEN_REVOKED' },
      });
      const page = await client.get(`/mailboxes/${mb.id}`);
      assert.doesNotMatch(page.text, /Yes \(refresh token stored\)/);
      assert.match(page.text, /Sign-in needed\./);
      assert.match(page.text, /<code>TOKEN_REVOKED<\/code>/);
      assert.ok(page.text.includes(html(failure('TOKEN_REVOKED').hint)), 'the code’s hint');
      assert.match(page.text, /No: Google refused the stored refresh token/);
      assert.match(page.text, new RegExp(`href="/mailboxes/${mb.id}/gmail/signin">Sign in to Gmail again<`));
      const list = await client.get('/mailboxes');
      const row = list.text.slice(list.text.indexOf(`data-mailbox-id="${mb.id}"`)).split('</tr>')[0];
      assert.match(row, /<span class="badge badge-failure">Sign in again<\/span>/);
    });

    test('a new sign-in clears the needs-sign-in mark and records when the refresh token was issued', async () => {
      const { prisma } = ctx().db;
      const { client, mb } = await mine(ctx());
      await prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: { signInRequiredAt: new Date(), signInRequiredCode: 'TOKEN_REVOKED', refreshTokenIssuedAt: null },
      });
      // An admin pastes a refresh token: the same grant write as a finished Sign in to Gmail.
      const admin = (await ctx().signedIn('ADMIN')).client;
      const token = w.google.issueTokensFor(mb.emailAddress, w.clientId).refresh_token;
      await admin.get(`/mailboxes/${mb.id}/gmail/token`);
      const saved = await admin.post(`/mailboxes/${mb.id}/gmail/token`, {
        refreshToken: token,
        googleEmail: mb.emailAddress,
      });
      assert.equal(saved.status, 303, saved.text.slice(0, 500));
      const g = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mb.id } });
      assert.equal(g.signInRequiredAt, null);
      assert.equal(g.signInRequiredCode, null);
      assert.ok(g.refreshTokenIssuedAt && Date.now() - g.refreshTokenIssuedAt.getTime() < 10 * 60_000);
      assert.doesNotMatch((await client.get(`/mailboxes/${mb.id}`)).text, /Sign-in needed/);
    });

    test('Disconnect also disables the mailbox, sets the statuses to Not Run, stops a test in progress and writes an alert', async () => {
      const { prisma } = ctx().db;
      const { client, mb } = await mine(ctx());
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: {
          enabledForIncoming: true,
          enabledForOutgoing: true,
          incomingStatus: 'SUCCESS',
          outgoingStatus: 'PENDING',
          retryCount: 1,
          nextRetryAt: new Date(Date.now() + 60_000),
        },
      });
      await prisma.testRun.create({ data: { mailboxId: mb.id, status: 'QUEUED', attempt: 2, jobId: 'no-such-job' } });
      await client.get(`/mailboxes/${mb.id}`);
      const r = await client.post(`/mailboxes/${mb.id}/gmail/disconnect`);
      assert.equal(r.status, 303);
      const after = await prisma.mailbox.findUniqueOrThrow({ where: { id: mb.id }, include: { grant: true } });
      assert.equal(after.grant, null);
      assert.equal(after.enabledForIncoming, false);
      assert.equal(after.enabledForOutgoing, false);
      assert.equal(after.incomingStatus, 'NOT_RUN');
      assert.equal(after.outgoingStatus, 'NOT_RUN');
      assert.equal(after.nextRetryAt, null);
      assert.equal(
        await prisma.testRun.count({ where: { mailboxId: mb.id, status: { in: ['QUEUED', 'RUNNING'] } } }),
        0,
      );
      const alert = await prisma.alert.findFirstOrThrow({
        where: { mailboxId: mb.id },
        orderBy: { createdAt: 'desc' },
      });
      assert.equal(alert.code, 'DISCONNECTED');
      assert.equal(alert.level, 'WARNING');
      assert.match(alert.message, /no longer enabled for incoming or outgoing email/);
      const page = await client.get(`/mailboxes/${mb.id}`);
      assert.match(page.text, /DISCONNECTED/);
      assert.match(page.text, /no longer enabled for incoming or outgoing email/);
      // A new request is taken at once: nothing is left running.
      assert.deepEqual((await ctx().deps.tests?.request([mb.id], null))?.queued ?? [mb.id], [mb.id]);
    });

    test('a Testing-status app: the mailbox and the list show the days left of the 7', async () => {
      const { prisma } = ctx().db;
      const { client, mb } = await mine(ctx(), { testing: true });
      await prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: { refreshTokenIssuedAt: new Date(Date.now() - 4 * DAY - 60_000) },
      });
      const page = await client.get(`/mailboxes/${mb.id}`);
      assert.match(page.text, /3 days left of this sign-in\./);
      assert.match(page.text, /in Testing status, so Google ends each sign-in 7 days after it was given/);
      const row = (await client.get('/mailboxes')).text;
      const cells = row.slice(row.indexOf(`data-mailbox-id="${mb.id}"`)).split('</tr>')[0];
      assert.match(cells, /<span class="badge badge-pending">3 days left \(Testing app\)<\/span>/);

      await prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: { refreshTokenIssuedAt: new Date(Date.now() - 6 * DAY - 3_600_000) },
      });
      const last = (await client.get('/mailboxes')).text;
      assert.match(
        last.slice(last.indexOf(`data-mailbox-id="${mb.id}"`)).split('</tr>')[0],
        /<span class="badge badge-failure">1 day left \(Testing app\)<\/span>/,
      );
      // A published app (the default) shows nothing of the kind.
      await prisma.emailServerProfile.update({ where: { id: mb.profileId! }, data: { googleAppInTesting: false } });
      assert.doesNotMatch((await client.get(`/mailboxes/${mb.id}`)).text, /left of this sign-in/);
    });
  },
  { env: w.googleEnv },
);
