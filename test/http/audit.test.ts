// The audit log answers who tested which mailbox with what result, and who was refused what; its page reads as names
// and labelled fields, not ids and JSON.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const w = await startGmailWorld();
after(() => w.close());

const events = (ctx: TestContext, where: Record<string, unknown>) =>
  ctx.db.prisma.auditEvent.findMany({ where, orderBy: { at: 'asc' } });

describeEachDb(
  'Audit log',
  (ctx) => {
    test('Test & Enable: who requested which mailboxes, and each outcome', async () => {
      const { prisma } = ctx().db;
      const { client, user } = await ctx().signedIn('ADMIN');
      const profile = await createGmailProfile(prisma, ctx().sealer, w);
      const ok = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      const off = await createConnectedMailbox(prisma, ctx().sealer, w, { ownerId: user.id, profileId: profile.id });
      w.mail.accounts.set(off.emailAddress, { imapEnabled: false });
      await client.get('/mailboxes');
      assert.equal((await client.post('/mailboxes/test', { ids: [ok.id, off.id] })).status, 303);

      const requested = await events(ctx(), { action: 'mailbox.test-enable', targetId: { in: [ok.id, off.id] } });
      assert.equal(requested.length, 2);
      for (const e of requested) {
        assert.equal(e.actorEmail, user.email);
        assert.equal(e.result, 'SUCCESS');
        assert.deepEqual(e.details, { step: 'request', queued: true });
      }
      const outcomes = await waitFor('both outcomes audited', async () => {
        const rows = await events(ctx(), {
          action: 'mailbox.test-enable',
          targetId: { in: [ok.id, off.id] },
          details: { path: ['step'], equals: 'outcome' },
        });
        return rows.length === 2 ? rows : undefined;
      });
      const of = (id: string) => outcomes.find((e) => e.targetId === id)!;
      assert.equal(of(ok.id).result, 'SUCCESS');
      assert.equal(of(ok.id).actorId, user.id, 'the requester is the actor of the outcome');
      assert.equal((of(ok.id).details as { incomingStatus: string }).incomingStatus, 'SUCCESS');
      assert.equal(of(off.id).result, 'FAILURE');
      assert.equal((of(off.id).details as { code: string }).code, 'IMAP_DISABLED');

      // The page: the mailbox by name and address (a link), the requester by email, details as fields.
      const page = await client.get('/admin/audit?action=mailbox.test-enable');
      assert.ok(page.text.includes(`<a href="/mailboxes/${off.id}">${off.name} &lt;${off.emailAddress}&gt;</a>`));
      assert.match(page.text, /<dt>Incoming Email Status<\/dt><dd>FAILURE<\/dd>/);
      assert.match(page.text, /<dt>Code<\/dt><dd>IMAP_DISABLED<\/dd>/);
      assert.match(page.text, /<dt>Queued<\/dt><dd>Yes<\/dd>/);
      assert.doesNotMatch(page.text, /\{&#34;|\{"/, 'no raw JSON');
      const outcomeRow = page.text.slice(page.text.indexOf('IMAP_DISABLED') - 2000, page.text.indexOf('IMAP_DISABLED'));
      assert.ok(outcomeRow.includes(user.email), 'the outcome names who requested it');
    });

    test('refused attempts are audited: a user on an admin page (403) and on another user’s mailbox (404)', async () => {
      const { prisma } = ctx().db;
      const { client, user } = await ctx().signedIn('USER');
      const other = await ctx().user();
      const theirs = await prisma.mailbox.create({
        data: { name: 'Theirs', emailAddress: `theirs-${randomUUID()}@example.com`, ownerId: other.id },
      });
      assert.equal((await client.get('/admin/users')).status, 403);
      assert.equal((await client.get('/profiles')).status, 403);
      assert.equal((await client.get(`/mailboxes/${theirs.id}`)).status, 404);
      assert.equal((await client.get(`/mailboxes/${theirs.id}/gmail/signin`)).status, 404);
      assert.equal((await client.get(`/mailboxes/${randomUUID()}`)).status, 404, 'no such mailbox: nothing to audit');
      const denied = await waitFor('four refusals audited', async () => {
        const rows = await events(ctx(), { action: 'access.denied', actorId: user.id });
        return rows.length >= 4 ? rows : undefined;
      });
      assert.deepEqual(
        denied.map((e) => [(e.details as { path: string }).path, (e.details as { status: number }).status, e.result]),
        [
          ['/admin/users', 403, 'DENIED'],
          ['/profiles', 403, 'DENIED'],
          [`/mailboxes/${theirs.id}`, 404, 'DENIED'],
          [`/mailboxes/${theirs.id}/gmail/signin`, 404, 'DENIED'],
        ],
      );
      assert.equal(denied[2].targetId, theirs.id);
      assert.equal(denied[0].actorEmail, user.email);
      // The user still cannot tell the mailbox exists: the same page as for none at all.
      const none = await client.get(`/mailboxes/${randomUUID()}`);
      assert.equal(none.text, (await client.get(`/mailboxes/${theirs.id}`)).text);

      const admin = (await ctx().signedIn('ADMIN')).client;
      const page = await admin.get('/admin/audit?action=access.');
      assert.ok(page.text.includes(`<a href="/mailboxes/${theirs.id}">Theirs &lt;${theirs.emailAddress}&gt;</a>`));
      assert.match(page.text, /<dt>Reason<\/dt><dd>another user&#39;s mailbox<\/dd>/);
      assert.match(page.text, /<dt>Reason<\/dt><dd>administrators only<\/dd>/);
    });

    test('the page names profiles and users, and what a deleted target recorded', async () => {
      const { prisma } = ctx().db;
      const { client, user } = await ctx().signedIn('ADMIN');
      const profile = await createGmailProfile(prisma, ctx().sealer, w, { name: 'Named Profile' });
      await prisma.auditEvent.createMany({
        data: [
          {
            action: 'view.profile',
            targetType: 'EmailServerProfile',
            targetId: profile.id,
            actorId: user.id,
            details: { changed: ['name', 'incomingPort'], needsReconsent: false },
          },
          {
            action: 'view.gone',
            targetType: 'Mailbox',
            targetId: randomUUID(),
            details: { emailAddress: 'gone@example.com', ownerId: user.id, profileId: profile.id },
          },
        ],
      });
      const page = await client.get('/admin/audit?action=view.');
      assert.ok(page.text.includes(`<a href="/profiles/${profile.id}">Named Profile</a>`));
      assert.match(page.text, /<dt>Changed<\/dt><dd>name, incomingPort<\/dd>/);
      assert.match(page.text, /<dt>Needs reconsent<\/dt><dd>No<\/dd>/);
      assert.match(page.text, /gone@example\.com <small>\(deleted\)<\/small>/);
      assert.ok(page.text.includes(`<dt>Owner</dt><dd>${user.email}</dd>`));
      assert.match(page.text, /<dt>Server profile<\/dt><dd>Named Profile<\/dd>/);
      assert.ok(page.text.includes(`<td>${user.email}<`), 'an actor known by id only is shown by email');
    });
  },
  {
    jobs: true,
    env: w.googleEnv,
    app: { mailTlsCa: w.mail.ca, checks: { retryBaseMs: 50, pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } },
  },
);
