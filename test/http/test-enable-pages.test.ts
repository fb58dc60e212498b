// Test & Enable through the pages: selection with confirmation, one mailbox, all of a profile, the live
// status JSON, the step report on the mailbox record, and who may do what.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const w = await startGmailWorld();
after(() => w.close());

const waitDone = (ctx: TestContext, ids: string[]) =>
  waitFor('final statuses', async () => {
    const pending = await ctx.db.prisma.mailbox.count({
      where: { id: { in: ids }, OR: [{ incomingStatus: 'PENDING' }, { outgoingStatus: 'PENDING' }] },
    });
    return pending === 0 ? true : undefined;
  });

describeEachDb(
  'Test & Enable pages',
  (ctx) => {
    test('a user tests their own mailbox; the record shows the step report with code and hint; others get 404', async () => {
      const { prisma } = ctx().db;
      const { client, user } = await ctx().signedIn('USER');
      const other = await ctx().user();
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mine = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      const theirs = await createConnectedMailbox(prisma, ctx().sealer, w, {
        ownerId: other.id,
        profileId: profile.id,
      });
      w.mail.accounts.set(mine.emailAddress, { imapEnabled: false });
      await client.get(`/mailboxes/${mine.id}`);
      const res = await client.post(`/mailboxes/${mine.id}/test`);
      assert.equal(res.status, 303);
      assert.equal(res.location, `/mailboxes/${mine.id}`);
      assert.equal((await client.post(`/mailboxes/${theirs.id}/test`)).status, 404);
      await waitDone(ctx(), [mine.id]);
      const page = await client.get(`/mailboxes/${mine.id}`);
      assert.match(page.text, /IMAP_DISABLED/);
      assert.match(page.text, /Enable IMAP/);
      assert.match(page.text, /data-live-status/);
      const json = JSON.parse((await client.get(`/mailboxes/status.json?ids=${mine.id},${theirs.id}`)).text);
      assert.deepEqual(
        json.mailboxes.map((m: { id: string }) => m.id),
        [mine.id],
      );
      assert.equal(json.mailboxes[0].incomingStatus, 'Failure');
      assert.equal(json.mailboxes[0].outgoingStatus, 'Success');
      const grant = await prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mine.id } });
      assert.ok(!page.text.includes(ctx().sealer.open(grant.accessToken, 'grant.accessToken')));
      assert.ok(!page.text.includes(grant.accessToken));
    });

    test('selection → confirmation listing them → queued; CSRF required', async () => {
      const { prisma } = ctx().db;
      const { client, user } = await ctx().signedIn('ADMIN');
      const profile = await createGmailProfile(prisma, ctx().sealer, w, { name: '<script>alert(1)</script>' });
      const a = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      const b = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      await client.get('/mailboxes');
      const confirm = await client.post('/mailboxes/test/confirm', { ids: [a.id, b.id] });
      assert.equal(confirm.status, 200);
      assert.match(confirm.text, new RegExp(a.emailAddress.replace('.', '\\.')));
      assert.match(confirm.text, /<strong>2<\/strong> mailboxes/);
      assert.doesNotMatch(confirm.text, /<script>alert/);
      assert.equal((await prisma.mailbox.findUniqueOrThrow({ where: { id: a.id } })).incomingStatus, 'NOT_RUN');
      assert.equal((await client.post('/mailboxes/test', { ids: [a.id, b.id] }, { csrf: false })).status, 403);
      const go = await client.post('/mailboxes/test', { ids: [a.id, b.id] });
      assert.equal(go.status, 303);
      assert.match((await client.get(go.location!)).text, /Test &amp; Enable Mailbox queued for 2 mailboxes/);
      await waitDone(ctx(), [a.id, b.id]);
      const done = await prisma.mailbox.findMany({ where: { id: { in: [a.id, b.id] } } });
      assert.ok(done.every((m) => m.enabledForIncoming && m.enabledForOutgoing));
    });

    test('two people press Test & Enable Mailbox at the same moment: one run, and the other is told it is already running', async () => {
      const { prisma } = ctx().db;
      const { client: a, user } = await ctx().signedIn('ADMIN');
      const { client: b } = await ctx().signedIn('ADMIN');
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      await Promise.all([a.get(`/mailboxes/${mb.id}`), b.get(`/mailboxes/${mb.id}`)]);
      const both = await Promise.all([a.post(`/mailboxes/${mb.id}/test`), b.post(`/mailboxes/${mb.id}/test`)]);
      assert.deepEqual(
        both.map((r) => r.status),
        [303, 303],
      );
      const pages = await Promise.all([a.get(`/mailboxes/${mb.id}`), b.get(`/mailboxes/${mb.id}`)]);
      const said = pages.map((p) =>
        /Test &amp; Enable Mailbox queued\./.test(p.text) ? 'queued' : /already running/.test(p.text) ? 'running' : '?',
      );
      assert.deepEqual(said.sort(), ['queued', 'running']);
      await waitDone(ctx(), [mb.id]);
      assert.equal(await prisma.testRun.count({ where: { mailboxId: mb.id } }), 1);
    });

    test('Test & Enable all mailboxes on a profile: admin only', async () => {
      const { prisma } = ctx().db;
      const { client: admin, user } = await ctx().signedIn('ADMIN');
      const { client: userClient } = await ctx().signedIn('USER');
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const ids = [];
      for (let i = 0; i < 3; i++)
        ids.push(
          (await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id })).id,
        );
      assert.equal((await userClient.get(`/profiles/${profile.id}/test-all`)).status, 403);
      const confirm = await admin.get(`/profiles/${profile.id}/test-all`);
      assert.match(confirm.text, /<strong>3<\/strong> mailboxes/);
      assert.equal((await userClient.post(`/profiles/${profile.id}/test-all`)).status, 403);
      const go = await admin.post(`/profiles/${profile.id}/test-all`);
      assert.equal(go.status, 303);
      await waitDone(ctx(), ids);
      assert.equal(await prisma.mailbox.count({ where: { id: { in: ids }, incomingStatus: 'SUCCESS' } }), 3);
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: { mailTlsCa: w.mail.ca, checks: { retryBaseMs: 50, pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } },
  },
);
