// Bulk actions of the mailbox list over HTTP: a confirmation naming the count, then Approve Email, Reject Email,
// Change Server Profile (the 100-mailbox Gmail cap per mailbox), Test & Enable (running ones reported) and Delete,
// each with its result page and its audit entries; "all matching" the filter; users only Test & Enable their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { tableRows, textOf } from '../helpers/html.ts';
import { gmailProfile, mailboxes, rand } from '../helpers/mailbox-factory.ts';

describeEachDb(
  'bulk actions on the mailbox list',
  (ctx) => {
    const prisma = () => ctx().db.prisma;

    test('Approve Email for a selection: confirmation with the count, then a result; already approved ones are skipped', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const mbs = await mailboxes(prisma(), 3, { ownerId: user.id });
      await prisma().mailbox.update({ where: { id: mbs[2].id }, data: { emailApproval: 'APPROVED' } });
      const list = await client.get('/mailboxes');
      assert.match(list.text, /<button type="submit" name="action" value="approve">Approve Email<\/button>/);
      const ids = mbs.map((m) => m.id);
      const confirm = await client.post('/mailboxes/bulk/confirm', { action: 'approve', ids });
      assert.equal(confirm.status, 200);
      assert.match(textOf(confirm.text), /Approve Email for 3 mailboxes \(selected on the list\)\?/);
      for (const m of mbs) assert.ok(confirm.text.includes(m.emailAddress));
      const done = await client.post('/mailboxes/bulk/approve', { ids, expected: '3' });
      assert.equal(done.status, 303);
      assert.equal(done.location, '/mailboxes/bulk/result');
      const result = await client.get('/mailboxes/bulk/result');
      assert.match(textOf(result.text), /2 mailboxes approved\. 1 mailbox skipped\./);
      assert.deepEqual(tableRows(result.text, 'bulk-skipped')[0].slice(1), [mbs[2].emailAddress, 'Already approved.']);
      const approved = await prisma().mailbox.count({ where: { id: { in: ids }, emailApproval: 'APPROVED' } });
      assert.equal(approved, 3);
      const events = await prisma().auditEvent.findMany({
        where: { actorId: user.id, action: { startsWith: 'mailbox.' } },
      });
      assert.equal(events.filter((e) => e.action === 'mailbox.approve').length, 2);
      const bulk = events.find((e) => e.action === 'mailbox.bulk.approve');
      assert.deepEqual(
        { ...(bulk?.details as object), selection: undefined },
        { selection: undefined, count: 3, done: 2, skipped: 1, failed: 0 },
      );
    });

    test('Reject Email for all matching a search: the count is checked again before acting', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const prefix = `rej-${rand()}`;
      const mbs = await mailboxes(prisma(), 4, { ownerId: user.id, prefix, emailApproval: 'APPROVED' });
      await prisma().mailbox.updateMany({
        where: { id: { in: mbs.map((m) => m.id) } },
        data: { enabledForIncoming: true, enabledForOutgoing: true },
      });
      const list = await client.get(`/mailboxes?q=${prefix}`);
      assert.match(textOf(list.text), /Instead: all 4 mailboxes matching this search and filter/);
      const confirm = await client.post('/mailboxes/bulk/confirm', { action: 'reject', all: '1', q: prefix });
      assert.match(textOf(confirm.text), new RegExp(`Reject Email for 4 mailboxes \\(all matching “${prefix}”\\)\\?`));
      assert.match(confirm.text, /name="expected" value="4"/);
      // A fifth mailbox starts matching between the confirmation and the click: ask again, change nothing.
      await mailboxes(prisma(), 1, { ownerId: user.id, prefix: `${prefix}-late` });
      const stale = await client.post('/mailboxes/bulk/reject', { all: '1', q: prefix, expected: '4' });
      assert.equal(stale.status, 409);
      assert.match(textOf(stale.text), /changed since you chose: 5 match now/);
      assert.equal(
        await prisma().mailbox.count({ where: { name: { startsWith: prefix }, emailApproval: 'REJECTED' } }),
        0,
      );
      const done = await client.post('/mailboxes/bulk/reject', { all: '1', q: prefix, expected: '5' });
      assert.equal(done.status, 303);
      assert.match(textOf((await client.get('/mailboxes/bulk/result')).text), /5 mailboxes rejected\./);
      const after = await prisma().mailbox.findMany({ where: { name: { startsWith: prefix } } });
      assert.ok(after.every((m) => m.emailApproval === 'REJECTED' && !m.enabledForIncoming && !m.enabledForOutgoing));
    });

    test('Change Server Profile respects the 100-mailbox Gmail cap per mailbox and says which were not moved', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const full = await gmailProfile(prisma(), ctx().sealer);
      const other = await gmailProfile(prisma(), ctx().sealer);
      await mailboxes(prisma(), 98, { ownerId: user.id, profileId: full.id });
      const movers = await mailboxes(prisma(), 4, { ownerId: user.id, profileId: other.id, emailApproval: 'APPROVED' });
      const [onFull] = await mailboxes(prisma(), 1, { ownerId: user.id, profileId: full.id }); // 99 now
      const ids = [...movers.map((m) => m.id), onFull.id];
      const confirm = await client.post('/mailboxes/bulk/confirm', { action: 'profile', ids });
      assert.match(confirm.text, /<label for="f-profileId">New Server Profile<\/label>/);
      assert.match(textOf(confirm.text), new RegExp(`${full.name} \\(99 of 100 mailboxes\\)`));
      const missing = await client.post('/mailboxes/bulk/profile', { ids, expected: '5' });
      assert.equal(missing.status, 422);
      assert.match(missing.text, /id="f-profileId-error">Choose an email server profile/);
      const done = await client.post('/mailboxes/bulk/profile', { ids, expected: '5', profileId: full.id });
      assert.equal(done.status, 303);
      const result = (await client.get('/mailboxes/bulk/result')).text;
      assert.match(
        textOf(result),
        /1 mailbox moved to the new profile\. 1 mailbox skipped\. 3 mailboxes not moved to the new profile\./,
      );
      for (const row of tableRows(result, 'bulk-failed')) assert.match(row[2], /already serves 100 mailboxes/);
      assert.deepEqual(tableRows(result, 'bulk-skipped')[0].slice(1), [
        onFull.emailAddress,
        'Already on this profile.',
      ]);
      assert.equal(await prisma().mailbox.count({ where: { profileId: full.id } }), 100);
      const moved = await prisma().mailbox.findFirstOrThrow({
        where: { id: { in: movers.map((m) => m.id) }, profileId: full.id },
      });
      assert.equal(moved.emailApproval, 'PENDING', 'a moved mailbox is reset as the edit form does');
      const bulk = await prisma().auditEvent.findFirstOrThrow({
        where: { action: 'mailbox.bulk.profile', actorId: user.id },
      });
      assert.equal(bulk.result, 'FAILURE');
      assert.equal((bulk.details as { failed: number }).failed, 3);
    });

    test('Delete: the confirmation warns and names the count; the mailboxes are gone and each deletion audited', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const mbs = await mailboxes(prisma(), 2, { ownerId: user.id });
      const ids = mbs.map((m) => m.id);
      const confirm = await client.post('/mailboxes/bulk/confirm', { action: 'delete', ids });
      assert.match(confirm.text, />Delete 2 mailboxes<\/button>/);
      assert.match(textOf(confirm.text), /This cannot be undone/);
      const res = await client.post('/mailboxes/bulk/delete', { ids, expected: '2' });
      assert.equal(res.status, 303);
      assert.match(textOf((await client.get('/mailboxes/bulk/result')).text), /2 mailboxes deleted\./);
      assert.equal(await prisma().mailbox.count({ where: { id: { in: ids } } }), 0);
      assert.equal(await prisma().auditEvent.count({ where: { action: 'mailbox.delete', targetId: { in: ids } } }), 2);
    });

    test('Test & Enable in bulk: one run per mailbox, running ones reported; a user may do it for their own only', async () => {
      const { client, user } = await ctx().signedIn('USER');
      const mine = await mailboxes(prisma(), 3, { ownerId: user.id });
      const theirs = await mailboxes(prisma(), 1, { ownerId: (await ctx().user()).id });
      await prisma().testRun.create({ data: { mailboxId: mine[0].id, status: 'RUNNING' } }); // already running
      await client.get('/mailboxes');
      const ids = [...mine, ...theirs].map((m) => m.id);
      const confirm = await client.post('/mailboxes/bulk/confirm', { action: 'test', ids });
      assert.match(textOf(confirm.text), /Test & Enable Mailbox for 3 mailboxes/);
      const res = await client.post('/mailboxes/bulk/test', { ids, expected: '3' });
      assert.equal(res.status, 303);
      assert.equal(res.location, '/mailboxes?tested=2');
      assert.match(
        textOf((await client.get('/mailboxes')).text),
        /Test & Enable Mailbox queued for 2 mailboxes \(1 already running: not queued again\)/,
      );
      assert.equal(await prisma().testRun.count({ where: { mailboxId: { in: ids } } }), 3);
      assert.equal(await prisma().testRun.count({ where: { mailboxId: theirs[0].id } }), 0);
      // Admin-only actions: 403 for a user, nothing changed, the attempt audited as denied.
      for (const action of ['approve', 'reject', 'profile', 'delete']) {
        assert.equal((await client.post('/mailboxes/bulk/confirm', { action, ids })).status, 403);
        assert.equal((await client.post(`/mailboxes/bulk/${action}`, { ids, expected: '3' })).status, 403);
      }
      assert.equal(await prisma().mailbox.count({ where: { id: { in: ids } } }), 4);
      assert.ok(await prisma().auditEvent.count({ where: { actorId: user.id, result: 'DENIED' } }));
      // The list shows a user the Test & Enable button only.
      const list = (await client.get('/mailboxes')).text;
      assert.match(list, /value="test">Test &amp; Enable selected mailboxes/);
      assert.doesNotMatch(list, /value="approve"/);
    });

    test('without a CSRF token nothing happens; nothing selected goes back to the list', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const [m] = await mailboxes(prisma(), 1, { ownerId: user.id });
      const res = await client.post('/mailboxes/bulk/delete', { ids: m.id, expected: '1' }, { csrf: false });
      assert.equal(res.status, 403);
      assert.equal(await prisma().mailbox.count({ where: { id: m.id } }), 1);
      const none = await client.post('/mailboxes/bulk/confirm', { action: 'approve' });
      assert.equal(none.status, 303);
      assert.equal(none.location, '/mailboxes');
      assert.equal((await client.post('/mailboxes/bulk/confirm', { action: 'explode', ids: m.id })).status, 404);
    });
  },
  { jobs: true },
);
