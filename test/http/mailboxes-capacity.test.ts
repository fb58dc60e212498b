// At most 100 mailboxes per Gmail OAuth profile, even under concurrent assignment: ~20 creates racing for the
// last place (and edits moving mailboxes onto the profile) let exactly one through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb } from '../helpers/context.ts';

const rand = () => randomBytes(4).toString('hex');

describeEachDb('mailbox capacity per Gmail profile', (ctx) => {
  const prisma = () => ctx().db.prisma;
  const profile = (o: Record<string, unknown> = {}) =>
    prisma().emailServerProfile.create({
      data: {
        name: `Gmail ${rand()}`,
        incomingServer: 'imap.gmail.com',
        incomingPort: 993,
        outgoingServer: 'smtp.gmail.com',
        outgoingPort: 587,
        authenticateUsing: 'GMAIL_OAUTH',
        oauthClientId: 'cid',
        oauthClientSecret: ctx().sealer.seal('secret', 'profile.oauthClientSecret'),
        ...o,
      },
    });
  const fill = (profileId: string, ownerId: string, n: number) =>
    prisma().mailbox.createMany({
      data: Array.from({ length: n }, (_, i) => ({
        name: `Fill ${i}`,
        emailAddress: `fill-${i}-${rand()}@x.test`,
        ownerId,
        profileId,
      })),
    });
  const body = (profileId: string, o: Record<string, string> = {}) => ({
    name: 'Racer',
    emailAddress: `race-${rand()}@x.test`,
    profileId,
    incomingEmail: 'SERVER_SIDE_SYNC',
    outgoingEmail: 'SERVER_SIDE_SYNC',
    ...o,
  });

  test('20 concurrent creates at 99 of 100: exactly one succeeds, the rest get a field error saying to create another profile', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    const p = await profile();
    await fill(p.id, user.id, 99);
    await client.get('/mailboxes/new');
    const results = await Promise.all(Array.from({ length: 20 }, () => client.post('/mailboxes', body(p.id))));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [303, ...Array(19).fill(422)]);
    assert.equal(await prisma().mailbox.count({ where: { profileId: p.id } }), 100);
    const refused = results.find((r) => r.status === 422)!;
    assert.match(refused.text, /already serves 100 mailboxes.*Create another Gmail OAuth email server profile/);
    assert.match(refused.text, /id="f-profileId-error"/);
    // …and as a banner at the top, as the profile form shows its refusals.
    assert.match(
      refused.text,
      /<div class="flash flash-error" role="alert">This mailbox was not saved\. The email server profile/,
    );
  });

  test('concurrent edits moving mailboxes onto a profile with one place left: exactly one moves', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    const full = await profile();
    const elsewhere = await profile();
    await fill(full.id, user.id, 99);
    const movers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        prisma().mailbox.create({
          data: {
            name: `Mover ${i}`,
            emailAddress: `mover-${i}-${rand()}@x.test`,
            ownerId: user.id,
            profileId: elsewhere.id,
          },
        }),
      ),
    );
    await client.get('/mailboxes/new');
    const results = await Promise.all(
      movers.map((m) =>
        client.post(
          `/mailboxes/${m.id}/edit`,
          body(full.id, { emailAddress: m.emailAddress, name: m.name, ownerId: user.id }),
        ),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [303, ...Array(9).fill(422)]);
    assert.equal(await prisma().mailbox.count({ where: { profileId: full.id } }), 100);
    // Saving a mailbox that is already on the full profile is not an assignment: it still works.
    const onFull = await prisma().mailbox.findFirstOrThrow({ where: { profileId: full.id } });
    const again = await client.post(
      `/mailboxes/${onFull.id}/edit`,
      body(full.id, { emailAddress: onFull.emailAddress, name: 'Still here', ownerId: user.id }),
    );
    assert.equal(again.status, 303);
  });

  test('credentials-per-mailbox profiles have no such limit', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    const p = await profile({
      authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
      oauthClientId: null,
      oauthClientSecret: null,
    });
    await fill(p.id, user.id, 100);
    await client.get('/mailboxes/new');
    assert.equal((await client.post('/mailboxes', body(p.id))).status, 303);
  });
});
