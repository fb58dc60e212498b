// The JSON API's resources over HTTP on both engines, through the same services as the pages: profiles, mailboxes
// (filters, cursor paging, approval, Test & Enable with an Idempotency-Key), alerts, emails, users, the audit log;
// problem+json field errors with the forms' words; the docs. Every answer, and every documented example, is checked
// against the OpenAPI document, which must have had every operation answer with a success by the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { tokenFromPage } from '../helpers/api-tokens.ts';
import { apiClient, OpenApiChecker } from '../helpers/openapi.ts';
import { waitFor } from '../helpers/wait.ts';
import { createEmailRow, createMailboxRow } from '../helpers/mail-records.ts';
import { startFakeGoogle, googleEnvOf } from '../fakes/google.ts';

const google = await startFakeGoogle();
after(() => google.close());
const rand = () => randomBytes(4).toString('hex');

describeEachDb(
  'API resources',
  (get) => {
    const ctx = (): TestContext => get();
    const prisma = () => ctx().db.prisma;
    let checker: OpenApiChecker;
    let admin: Awaited<ReturnType<TestContext['signedIn']>>;
    let alice: Awaited<ReturnType<TestContext['signedIn']>>;
    let bob: Awaited<ReturnType<TestContext['signedIn']>>;
    let adminApi: ReturnType<typeof apiClient>;
    let aliceApi: ReturnType<typeof apiClient>;
    let aliceToken: string;
    const clientId = `${rand()}.apps.googleusercontent.com`;

    before(async () => {
      // PGlite blocks the event loop for stretches under load: a server closing idle keep-alive sockets then races
      // the client's next request on them (ECONNRESET). Let the client close its idle sockets instead.
      ctx().server.keepAliveTimeout = 120_000;
      google.addClient({ clientId, clientSecret: 'GOCSPX-right', redirectUris: [] });
      const res = await fetch(`${ctx().url}/api/openapi.json`);
      assert.equal(res.status, 200);
      checker = new OpenApiChecker((await res.json()) as Record<string, unknown>);
      admin = await ctx().signedIn('ADMIN');
      alice = await ctx().signedIn('USER');
      bob = await ctx().signedIn('USER');
      adminApi = apiClient(ctx().url, checker, await tokenFromPage(admin.client, { name: 'Admin script' }));
      aliceToken = await tokenFromPage(alice.client, { name: 'Alice script' });
      aliceApi = apiClient(ctx().url, checker, aliceToken);
    });

    test('problem+json field errors carry the same messages as the forms', async () => {
      const bad = await aliceApi.post('/mailboxes', { name: '', emailAddress: 'not an address' });
      assert.equal(bad.status, 422);
      assert.equal(bad.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      assert.equal(bad.body.type, '/api/problems/invalid-fields');
      // The page's form, posted the same values, shows the same words.
      await alice.client.get('/mailboxes/new');
      const form = await alice.client.post('/mailboxes', {
        name: '',
        emailAddress: 'not an address',
        incomingEmail: 'IMAP',
        outgoingEmail: 'SERVER_SIDE_SYNC',
      });
      assert.equal(form.status, 422);
      // A value of the wrong kind is refused before the rules run, in the form's words too.
      const kind = await aliceApi.post('/mailboxes', { incomingEmail: 'IMAP' });
      assert.equal(kind.status, 422);
      bad.body.errors.incomingEmail = kind.body.errors.incomingEmail;
      for (const field of ['name', 'emailAddress', 'incomingEmail']) {
        assert.ok(bad.body.errors[field], `an error for ${field}`);
        assert.ok(
          form.text.includes(bad.body.errors[field].replaceAll("'", '&#39;')),
          `the form says "${bad.body.errors[field]}"`,
        );
      }
      const p = await adminApi.post('/profiles', { incomingPort: 0, outgoingPort: 'x', serverType: 'SMTP' });
      assert.equal(p.status, 422);
      assert.equal(p.body.errors.outgoingPort, 'Enter a whole number from 1 to 65535');
      const p2 = await adminApi.post('/profiles', { incomingPort: 0, name: '' });
      assert.equal(p2.status, 422);
      assert.equal(p2.body.errors.incomingPort, 'Enter a whole number from 1 to 65535');
      assert.equal(p2.body.errors.name, 'Enter a name');
      assert.equal(p2.body.errors.oauthClientSecret, 'Enter the Client Secret of your Google OAuth client');
      const q = await aliceApi.get('/mailboxes?limit=0&emailApproval=MAYBE');
      assert.equal(q.status, 400);
      assert.ok(q.body.errors.limit && q.body.errors.emailApproval, 'errors for limit and emailApproval');
      const broken = await aliceApi.post('/mailboxes', '{"name":');
      assert.equal(broken.status, 400);
      assert.equal(broken.headers.get('content-type')?.split(';')[0], 'application/problem+json');
    });

    test('profiles: create (client verified at Google), read without the secret, update, refuse deleting one in use, delete', async () => {
      const name = `API profile ${rand()}`;
      const created = await adminApi.post('/profiles', {
        name,
        serverType: 'IMAP',
        incomingServer: 'imap.gmail.com',
        incomingPort: 993,
        outgoingServer: 'smtp.gmail.com',
        outgoingPort: 587,
        authenticateUsing: 'GMAIL_OAUTH',
        oauthClientId: clientId,
        oauthClientSecret: 'GOCSPX-right',
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.hasClientSecret, true);
      assert.ok(!created.text.includes('GOCSPX-right'), 'the secret is write-only');
      assert.equal(created.body.verifyClient?.result, 'VALID');
      const id = created.body.id;
      assert.equal(created.headers.get('location'), `/api/v1/profiles/${id}`);
      const dup = await adminApi.post('/profiles', { ...created.body, oauthClientSecret: 'GOCSPX-right' });
      assert.equal(dup.status, 422);
      assert.equal(dup.body.errors.name, 'An email server profile with this name already exists');
      const read = await adminApi.get(`/profiles/${id}`);
      assert.equal(read.status, 200);
      assert.ok(!read.text.includes('GOCSPX'), 'no secret in the answer');
      const patched = await adminApi.patch(`/profiles/${id}`, { maxConcurrentConnections: 20 });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.maxConcurrentConnections, 20);
      assert.equal(patched.body.hasClientSecret, true, 'leaving the secret out keeps it');
      assert.equal(patched.body.verifyClient, null, 'the client did not change');
      const list = await adminApi.get(`/profiles?q=${encodeURIComponent(name)}`);
      assert.deepEqual(
        list.body.items.map((p: { id: string }) => p.id),
        [id],
      );
      const mb = await createMailboxRow(prisma(), { ownerId: alice.user.id, profileId: id });
      const refused = await adminApi.delete(`/profiles/${id}`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /used by 1 mailbox/);
      await prisma().mailbox.delete({ where: { id: mb.id } });
      assert.equal((await adminApi.delete(`/profiles/${id}`)).status, 204);
      assert.equal((await adminApi.get(`/profiles/${id}`)).status, 404);
    });

    test('mailboxes: create, list with filters and cursor paging, read with status and grant, update, approve, reject, delete', async () => {
      const tag = rand();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await aliceApi.post('/mailboxes', {
          name: `Paged ${tag} ${i}`,
          emailAddress: `paged-${tag}-${i}@example.com`,
        });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.emailApproval, 'PENDING');
        assert.equal(r.body.owner.id, alice.user.id);
        ids.push(r.body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await aliceApi.get(`/mailboxes?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200);
        assert.ok(res.body.items.length <= 2, 'at most limit rows');
        seen.push(...res.body.items.map((m: { id: string }) => m.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ids, 'every mailbox once, in name order');
      assert.equal((await aliceApi.get('/mailboxes?cursor=bm90IGEgY3Vyc29y')).status, 400);
      // Admin approves one; the filter finds it.
      const approved = await adminApi.post(`/mailboxes/${ids[0]}/approve`);
      assert.equal(approved.status, 200);
      assert.equal(approved.body.emailApproval, 'APPROVED');
      const rejected = await adminApi.post(`/mailboxes/${ids[1]}/reject`);
      assert.equal(rejected.body.emailApproval, 'REJECTED');
      const onlyApproved = await adminApi.get(`/mailboxes?q=${tag}&emailApproval=APPROVED`);
      assert.deepEqual(
        onlyApproved.body.items.map((m: { id: string }) => m.id),
        [ids[0]],
      );
      const byOwner = await adminApi.get(`/mailboxes?ownerId=${bob.user.id}&q=${tag}`);
      assert.equal(byOwner.body.items.length, 0);
      // A new address sends the approval back to Pending, as on the page.
      const moved = await aliceApi.patch(`/mailboxes/${ids[0]}`, { emailAddress: `moved-${tag}@example.com` });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.body.emailApproval, 'PENDING');
      const dup = await aliceApi.patch(`/mailboxes/${ids[2]}`, { emailAddress: `moved-${tag}@example.com` });
      assert.equal(dup.status, 422);
      assert.equal(dup.body.errors.emailAddress, 'A mailbox with this email address already exists');
      // Read with a Gmail grant's state.
      await prisma().gmailGrant.create({
        data: {
          mailboxId: ids[3],
          googleEmail: `paged-${tag}-3@example.com`,
          grantedScopes: 'https://mail.google.com/',
          accessToken: ctx().sealer.seal('at-secret', 'grant.accessToken'),
          accessTokenExpiresAt: new Date(Date.now() + 3600_000),
          signInRequiredAt: new Date(),
          signInRequiredCode: 'TOKEN_REVOKED',
        },
      });
      const read = await aliceApi.get(`/mailboxes/${ids[3]}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.grant.googleEmail, `paged-${tag}-3@example.com`);
      assert.equal(read.body.grant.signInRequired.code, 'TOKEN_REVOKED');
      assert.ok(!read.text.includes('at-secret') && !read.text.includes('accessToken"'), 'no token in the answer');
      assert.equal(read.body.incomingStatus, 'NOT_RUN');
      assert.equal((await aliceApi.delete(`/mailboxes/${ids[4]}`)).status, 204);
      assert.equal((await aliceApi.get(`/mailboxes/${ids[4]}`)).status, 404);
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'api.request', targetType: 'ApiToken' } }));
    });

    test('Test & Enable: the queued / already-running split, an Idempotency-Key repeat answers the first answer, runs and steps', async () => {
      const mine = await createMailboxRow(prisma(), {
        ownerId: alice.user.id,
        incomingStatus: 'NOT_RUN',
        enabledForIncoming: false,
      });
      const bobs = await createMailboxRow(prisma(), { ownerId: bob.user.id });
      const key = `key-${rand()}`;
      const first = await aliceApi.post(`/mailboxes/${mine.id}/test-enable`, {}, { 'idempotency-key': key });
      assert.equal(first.status, 202, first.text);
      assert.deepEqual(first.body, { queued: [mine.id], alreadyRunning: [], notFound: [] });
      const again = await aliceApi.post(`/mailboxes/${mine.id}/test-enable`, {}, { 'idempotency-key': key });
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body, 'the first answer, again');
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const reused = await aliceApi.post('/mailboxes/test-enable', { ids: [mine.id] }, { 'idempotency-key': key });
      assert.equal(reused.status, 422, 'the same key for another request');
      const runs = await prisma().testRun.count({ where: { mailboxId: mine.id } });
      assert.equal(runs, 1, 'one run however often the request was repeated');
      // Many at once: someone else's is not found, a repeat is already running (or queued again once finished).
      const many = await aliceApi.post('/mailboxes/test-enable', { ids: [mine.id, bobs.id, mine.id] });
      assert.equal(many.status, 202);
      assert.deepEqual(many.body.notFound, [bobs.id]);
      assert.equal(many.body.queued.length + many.body.alreadyRunning.length, 1);
      const none = await aliceApi.post('/mailboxes/test-enable', { ids: [] });
      assert.equal(none.status, 422);
      assert.equal(none.body.errors.ids, 'Select one or more mailboxes first.');
      // The run ends (no profile: it fails at once and says so) and its steps can be read.
      const finished = await waitFor('the run to finish', async () => {
        const r = await aliceApi.get(`/mailboxes/${mine.id}/test-runs?limit=1`);
        return r.body.items[0]?.finishedAt ? r.body.items[0] : undefined;
      });
      assert.ok(
        finished.steps.some((s: { code?: string }) => s.code === 'NO_PROFILE'),
        'the run says the mailbox has no profile',
      );
      const one = await aliceApi.get(`/mailboxes/${mine.id}/test-runs/${finished.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.id, finished.id);
      assert.equal((await aliceApi.get(`/mailboxes/${bobs.id}/test-runs/${finished.id}`)).status, 404);
      const all = await aliceApi.get(`/mailboxes/${mine.id}/test-runs?limit=1`);
      if (all.body.nextCursor) {
        const next = await aliceApi.get(`/mailboxes/${mine.id}/test-runs?limit=1&cursor=${all.body.nextCursor}`);
        assert.equal(next.status, 200);
        assert.notEqual(next.body.items[0]?.id, all.body.items[0].id);
      }
    });

    test('alerts, emails, users and the audit log', async () => {
      const mb = await createMailboxRow(prisma(), { ownerId: alice.user.id });
      const bobs = await createMailboxRow(prisma(), { ownerId: bob.user.id });
      await prisma().alert.create({
        data: { mailboxId: mb.id, level: 'ERROR', code: 'TOKEN_REVOKED', message: 'Revoked' },
      });
      await prisma().alert.create({ data: { mailboxId: bobs.id, level: 'WARNING', code: 'X', message: "Bob's" } });
      const alerts = await aliceApi.get('/alerts?level=ERROR');
      assert.equal(alerts.status, 200);
      assert.ok(
        alerts.body.items.some((a: { mailbox: { id: string } }) => a.mailbox?.id === mb.id),
        "Alice's alert is listed",
      );
      assert.ok(
        !alerts.body.items.some((a: { mailbox: { id: string } }) => a.mailbox?.id === bobs.id),
        "Bob's alert is not",
      );
      assert.equal((await aliceApi.get('/alerts?level=LOUD')).status, 400);
      const email = await createEmailRow(prisma(), {
        mailboxId: mb.id,
        subject: `API mail ${rand()}`,
        html: '<p>Hi</p>',
      });
      const other = await createEmailRow(prisma(), { mailboxId: bobs.id });
      const emails = await aliceApi.get(`/emails?mailboxId=${mb.id}`);
      assert.equal(emails.status, 200);
      assert.deepEqual(
        emails.body.items.map((e: { id: string }) => e.id),
        [email.id],
      );
      const read = await aliceApi.get(`/emails/${email.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.subject, email.subject);
      assert.equal((await aliceApi.get(`/emails/${other.id}`)).status, 404);

      const users = await adminApi.get(`/users?q=${encodeURIComponent(alice.user.email)}`);
      assert.equal(users.status, 200);
      assert.equal(users.body.items[0].id, alice.user.id);
      assert.equal((await adminApi.get(`/users/${alice.user.id}`)).body.email, alice.user.email);
      const email2 = `api-${rand()}@example.com`;
      const added = await adminApi.post('/users', { email: email2, name: 'Ana', password: 'a long passphrase' });
      assert.equal(added.status, 201, added.text);
      assert.ok(!added.text.includes('a long passphrase'), 'the password is not in the answer');
      const dupUser = await adminApi.post('/users', { email: email2, name: 'Ana', password: 'a long passphrase' });
      assert.equal(dupUser.body.errors.email, 'A user with this email already exists');
      const short = await adminApi.post('/users', { email: `x-${rand()}@example.com`, name: 'X', password: 'short' });
      assert.equal(short.status, 422);
      assert.match(short.body.errors.password, /at least/);
      const disabled = await adminApi.patch(`/users/${added.body.id}`, { disabled: true });
      assert.equal(disabled.body.disabled, true);
      const self = await adminApi.patch(`/users/${admin.user.id}`, { disabled: true });
      assert.equal(self.status, 422);
      assert.equal(self.body.errors.disabled, 'You cannot disable your own account.');
      const events = await adminApi.get('/audit-events?action=user.&limit=1');
      assert.equal(events.status, 200);
      assert.ok(events.body.items.length === 1 && events.body.nextCursor, 'one event and a next page');
      const next = await adminApi.get(`/audit-events?action=user.&limit=1&cursor=${events.body.nextCursor}`);
      assert.equal(next.status, 200);
      assert.notEqual(next.body.items[0].id, events.body.items[0].id);
    });

    test('the docs: /api/docs served from this server and linked from the footer', async () => {
      assert.equal((await adminApi.get('/me')).body.user.role, 'ADMIN');
      const docs = await fetch(`${ctx().url}/api/docs`);
      assert.equal(docs.status, 200);
      const html = await docs.text();
      assert.match(html, /src="\/api\/docs\/ui\/swagger-ui-bundle\.js"/);
      assert.doesNotMatch(html, /https?:\/\//, 'nothing from another host');
      assert.equal((await fetch(`${ctx().url}/api/docs/ui/swagger-ui-bundle.js`)).status, 200);
      assert.match((await admin.client.get('/mailboxes')).text, /<a href="\/api\/docs">API documentation<\/a>/);
      assert.equal((await fetch(`${ctx().url}/api/nothing`)).status, 404);
    });

    test('every documented example matches its schema, and every operation answered with a success', () => {
      let examples = 0;
      for (const [path, ops] of Object.entries<Record<string, any>>(checker.doc.paths))
        for (const [method, op] of Object.entries<any>(ops)) {
          const body = op.requestBody?.content?.['application/json'];
          if (body?.example !== undefined) {
            checker.validate(body.schema, body.example, `${method} ${path} request example`);
            examples++;
          }
          for (const [status, r] of Object.entries<any>(op.responses))
            for (const media of Object.values<any>(r.content ?? {}))
              if (media.example !== undefined) {
                checker.validate(media.schema, media.example, `${method} ${path} ${status} example`);
                examples++;
              }
        }
      assert.ok(examples >= 5, `examples checked: ${examples}`);
      // Sending needs the Gmail-like SMTP world: test/http/api-emails-send.test.ts makes it answer with a success.
      const elsewhere = ['post /api/v1/emails'];
      assert.deepEqual(
        checker.untested().filter((o) => !elsewhere.includes(o)),
        [],
        'operations no test made answer with a success',
      );
    });
  },
  { jobs: true, env: googleEnvOf(google) },
);
