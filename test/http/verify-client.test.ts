// Verify client on the profile page: the verdict with its time, audited, and run on its own when the Client Id or
// Client Secret changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb } from '../helpers/context.ts';
import { startFakeGoogle, googleEnvOf } from '../fakes/google.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';

const google = await startFakeGoogle();
after(() => google.close());
const rand = () => randomBytes(4).toString('hex');

describeEachDb(
  'Verify client',
  (ctx) => {
    test('a save with a new secret verifies at once; the button verifies again; each verdict is shown with its time and audited', async () => {
      const clientId = `${rand()}.apps.googleusercontent.com`;
      google.addClient({ clientId, clientSecret: 'GOCSPX-right', redirectUris: [] });
      const { client } = await ctx().signedIn('ADMIN');
      await client.get('/profiles/new');
      const created = await client.post(
        '/profiles',
        sampleProfileForm({ name: `Verify ${rand()}`, oauthClientId: clientId, oauthClientSecret: 'GOCSPX-wrong' }),
      );
      assert.equal(created.status, 303);
      const id = created.location!.split('/').pop()!;
      let page = await client.get(`/profiles/${id}`);
      assert.match(page.text, /Verify client: Google refused the Client Secret for this Client Id/);
      assert.match(page.text, /<span class="badge badge-failure">Wrong Client Id or Client Secret<\/span>/);
      assert.match(page.text, /<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/time>/);
      const p1 = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { id } });
      assert.equal(p1.clientVerifiedResult, 'INVALID');
      assert.ok(p1.clientVerifiedAt);

      // The admin fixes the secret: verified again on its own.
      await client.get(`/profiles/${id}/edit`);
      const fixed = await client.post(
        `/profiles/${id}`,
        sampleProfileForm({ name: p1.name, oauthClientId: clientId, oauthClientSecret: 'GOCSPX-right' }),
      );
      assert.equal(fixed.status, 303);
      page = await client.get(`/profiles/${id}`);
      assert.match(page.text, /<span class="badge badge-success">Correct<\/span>/);
      assert.match(page.text, /Google accepted the Client Id and Client Secret/);
      const p2 = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { id } });
      assert.equal(p2.clientVerifiedResult, 'VALID');

      // A save that leaves the client alone does not call Google.
      const requests = google.stats().tokenRequests;
      await client.get(`/profiles/${id}/edit`);
      await client.post(
        `/profiles/${id}`,
        sampleProfileForm({
          name: p1.name,
          oauthClientId: clientId,
          oauthClientSecret: '',
          maxConcurrentConnections: '7',
        }),
      );
      assert.equal(google.stats().tokenRequests, requests);

      // The button, and Google having a bad moment: a distinct verdict, not "wrong".
      google.failTokenEndpoint(1, 503);
      await client.get(`/profiles/${id}`);
      const again = await client.post(`/profiles/${id}/verify-client`);
      assert.equal(again.status, 303);
      page = await client.get(`/profiles/${id}`);
      assert.match(page.text, /Not known: Google had a temporary problem/);
      assert.ok(!page.text.includes('GOCSPX-right'), 'the secret is never shown');

      const audit = await ctx().db.prisma.auditEvent.findMany({
        where: { action: 'profile.verify-client', targetId: id },
        orderBy: { at: 'asc' },
      });
      assert.deepEqual(
        audit.map((e) => [
          (e.details as { verdict: string }).verdict,
          (e.details as { trigger: string }).trigger,
          e.result,
        ]),
        [
          ['INVALID', 'client-changed', 'FAILURE'],
          ['VALID', 'client-changed', 'SUCCESS'],
          ['TEMPORARY', 'manual', 'FAILURE'],
        ],
      );
      assert.ok(!JSON.stringify(audit).includes('GOCSPX-'));
    });

    test('a user cannot verify; a credentials profile has nothing to verify', async () => {
      const { client: user } = await ctx().signedIn('USER');
      const p = await ctx().db.prisma.emailServerProfile.create({
        data: {
          name: `Creds ${rand()}`,
          incomingServer: 'imap.example.com',
          incomingPort: 993,
          outgoingServer: 'smtp.example.com',
          outgoingPort: 587,
          authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        },
      });
      await user.get('/mailboxes');
      assert.equal((await user.post(`/profiles/${p.id}/verify-client`)).status, 403);
      const { client: admin } = await ctx().signedIn('ADMIN');
      await admin.get(`/profiles/${p.id}`);
      assert.doesNotMatch((await admin.get(`/profiles/${p.id}`)).text, /Verify client/);
      await admin.post(`/profiles/${p.id}/verify-client`);
      assert.match(
        (await admin.get(`/profiles/${p.id}`)).text,
        /Only a Gmail OAuth profile with a Client Id and Client Secret can be verified/,
      );
    });
  },
  { env: googleEnvOf(google) },
);
