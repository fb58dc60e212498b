// Test & Enable's selection rules through the pages, without the job queue: nothing selected, malformed ids or only
// other users' mailboxes go back to the list with one message (and never reach the queue); the status JSON
// answers only for visible mailboxes and refuses malformed ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';

describeEachDb('Test & Enable selection', (ctx) => {
  async function mailboxOf(ownerId: string) {
    const email = `mb-${Math.random().toString(16).slice(2, 10)}@example.com`;
    return ctx().db.prisma.mailbox.create({ data: { name: email, emailAddress: email, ownerId } });
  }

  test('nothing, malformed or only invisible mailboxes selected: back to the list with a message, nothing queued', async () => {
    const { client } = await ctx().signedIn('USER');
    const theirs = await mailboxOf((await ctx().user()).id);
    await client.get('/mailboxes');
    for (const path of ['/mailboxes/test/confirm', '/mailboxes/test']) {
      for (const form of [{}, { ids: 'not-a-uuid' }, { ids: theirs.id }] as Record<string, string>[]) {
        const res = await client.post(path, form);
        // Without the job queue, reaching it would answer 503: the redirect shows the selection stopped the request.
        assert.equal(res.status, 303, `${path} ${JSON.stringify(form)}: ${res.status}`);
        assert.equal(res.location, '/mailboxes');
        assert.match((await client.get('/mailboxes')).text, /Select one or more mailboxes first\./);
      }
    }
    assert.equal(await ctx().db.prisma.testRun.count(), 0);
  });

  test('a visible selection reaches the queue (here: none running, 503); the status JSON lists only visible mailboxes', async () => {
    const { client, user } = await ctx().signedIn('USER');
    const mine = await mailboxOf(user.id);
    const theirs = await mailboxOf((await ctx().user()).id);
    await client.get('/mailboxes');
    const confirm = await client.post('/mailboxes/test/confirm', { ids: [mine.id, theirs.id] });
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /<strong>1<\/strong> mailbox/);
    assert.equal((await client.post('/mailboxes/test', { ids: [mine.id] })).status, 503);
    const json = JSON.parse((await client.get(`/mailboxes/status.json?ids=${mine.id},${theirs.id}`)).text);
    assert.deepEqual(
      json.mailboxes.map((m: { id: string }) => m.id),
      [mine.id],
    );
    assert.equal((await client.get('/mailboxes/status.json?ids=nope')).status, 400);
  });
});
