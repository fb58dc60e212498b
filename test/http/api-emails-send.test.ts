// Sending email through the JSON API on both engines (POST /api/v1/emails): through the pages' form schema and send
// service to the Gmail-like SMTP fake; an Idempotency-Key repeat sends nothing twice; read-only 403, another user's
// mailbox 404, the form's field errors and the mailbox's refusals as problem+json. Every answer is checked against the
// OpenAPI document (the resources suite leaves this operation's success to this file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { tokenFromPage } from '../helpers/api-tokens.ts';
import { apiClient, OpenApiChecker } from '../helpers/openapi.ts';
import { createEmailRow } from '../helpers/mail-records.ts';
import { decode } from '../helpers/html.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const w: GmailWorld = await startGmailWorld();
after(() => w.close());
const rand = () => randomBytes(4).toString('hex');
const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*)$`, 'im').exec(raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' '))?.[1];

describeEachDb(
  'API: sending email',
  (get) => {
    const ctx = (): TestContext => get();
    const prisma = () => ctx().db.prisma;
    let checker: OpenApiChecker;
    let alice: Awaited<ReturnType<TestContext['signedIn']>>;
    let bob: Awaited<ReturnType<TestContext['signedIn']>>;
    let aliceApi: ReturnType<typeof apiClient>;

    before(async () => {
      ctx().server.keepAliveTimeout = 120_000;
      const res = await fetch(`${ctx().url}/api/openapi.json`);
      assert.equal(res.status, 200);
      checker = new OpenApiChecker((await res.json()) as Record<string, unknown>);
      alice = await ctx().signedIn('USER');
      bob = await ctx().signedIn('USER');
      aliceApi = apiClient(ctx().url, checker, await tokenFromPage(alice.client, { name: 'Alice sender' }));
    });

    async function enabledMailbox(ownerId: string) {
      const profile = await createGmailProfile(prisma(), ctx().sealer, w);
      const mb = await createConnectedMailbox(prisma(), ctx().sealer, w, { ownerId, profileId: profile.id });
      return prisma().mailbox.update({
        where: { id: mb.id },
        data: { enabledForOutgoing: true, outgoingStatus: 'SUCCESS' },
      });
    }
    const received = (address: string) => w.mail.smtp.messages.filter((m) => m.from === address);
    const final = (id: string) =>
      waitFor(`a final status of email ${id}`, async () => {
        const r = await aliceApi.get(`/emails/${id}`);
        return ['PENDING_SEND', 'SENDING'].includes(r.body.status) ? undefined : r.body;
      });

    test('send through the API: 202 with the email and its URL, and the SMTP server receives exactly one message', async () => {
      const mb = await enabledMailbox(alice.user.id);
      const subject = `API report ${rand()}`;
      const sent = await aliceApi.post('/emails', {
        mailboxId: mb.id,
        to: ['Grace Hopper <grace@example.org>', { address: 'bob@example.net', name: 'Bob' }],
        cc: 'carol@example.com',
        bcc: [],
        subject,
        text: 'Hello,\n\nsent by a script.',
      });
      assert.equal(sent.status, 202, sent.text);
      assert.equal(sent.body.url, `/api/v1/emails/${sent.body.id}`);
      assert.equal(sent.headers.get('location'), sent.body.url);
      assert.equal(sent.body.direction, 'OUTGOING');
      // Answered as soon as it is queued; the worker may already have picked it up.
      assert.ok(['PENDING_SEND', 'SENDING', 'SENT'].includes(sent.body.status), sent.body.status);
      assert.equal(sent.body.subject, subject);
      assert.deepEqual(sent.body.to, [
        { address: 'grace@example.org', name: 'Grace Hopper' },
        { address: 'bob@example.net', name: 'Bob' },
      ]);
      const e = await final(sent.body.id);
      assert.equal(e.status, 'SENT', JSON.stringify(e.error));
      const got = received(mb.emailAddress);
      assert.equal(got.length, 1, 'exactly one message');
      assert.deepEqual(got[0].to.sort(), ['bob@example.net', 'carol@example.com', 'grace@example.org']);
      assert.equal(header(got[0].raw, 'Subject'), subject);
      assert.equal(header(got[0].raw, 'Message-ID'), e.messageId);
      const audited = await prisma().auditEvent.findFirst({ where: { action: 'email.send', targetId: e.id } });
      assert.equal(audited?.actorId, alice.user.id);
    });

    test('the same Idempotency-Key twice: the first answer again, one email, one message', async () => {
      const mb = await enabledMailbox(alice.user.id);
      const key = `send-${rand()}`;
      const body = { mailboxId: mb.id, to: 'grace@example.org', subject: 'Once', text: 'Only once.' };
      const first = await aliceApi.post('/emails', body, { 'idempotency-key': key });
      assert.equal(first.status, 202, first.text);
      const again = await aliceApi.post('/emails', body, { 'idempotency-key': key });
      assert.equal(again.status, 202);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, first.body, 'the first answer, again');
      const other = await aliceApi.post('/emails', { ...body, subject: 'Twice?' }, { 'idempotency-key': key });
      assert.equal(other.status, 422, 'the same key for another request');
      assert.equal((await final(first.body.id)).status, 'SENT');
      // Let a stray second send show itself if there were one.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await prisma().email.count({ where: { mailboxId: mb.id } }), 1, 'one email');
      assert.equal(received(mb.emailAddress).length, 1, 'one message');
    });

    test('a reply: From, To and "Re:" subject as the Reply page fills them, threaded under the original', async () => {
      const mb = await enabledMailbox(alice.user.id);
      const original = await createEmailRow(prisma(), {
        mailboxId: mb.id,
        fromAddress: 'grace@example.org',
        fromName: 'Grace Hopper',
        subject: 'Compilers',
        messageId: `<${rand()}@example.org>`,
      });
      const sent = await aliceApi.post('/emails', { replyToId: original.id, text: 'Thank you.' });
      assert.equal(sent.status, 202, sent.text);
      assert.equal(sent.body.mailbox.id, mb.id);
      assert.equal(sent.body.subject, 'Re: Compilers');
      assert.deepEqual(sent.body.to, [{ address: 'grace@example.org', name: 'Grace Hopper' }]);
      assert.equal(sent.body.inReplyTo, original.messageId);
      const e = await final(sent.body.id);
      assert.equal(e.status, 'SENT', JSON.stringify(e.error));
      const [m] = received(mb.emailAddress);
      assert.equal(header(m.raw, 'In-Reply-To'), original.messageId);
    });

    test("a read-only token is 403; another user's mailbox or email is 404; nothing is queued", async () => {
      const mine = await enabledMailbox(alice.user.id);
      const bobs = await enabledMailbox(bob.user.id);
      const reader = apiClient(
        ctx().url,
        checker,
        await tokenFromPage(alice.client, { name: 'Reader', scope: 'READ_ONLY' }),
      );
      const ro = await reader.post('/emails', { mailboxId: mine.id, to: 'grace@example.org', text: 'No.' });
      assert.equal(ro.status, 403);
      assert.equal(ro.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      const theirs = await aliceApi.post('/emails', { mailboxId: bobs.id, to: 'grace@example.org', text: 'No.' });
      assert.equal(theirs.status, 404);
      assert.equal(theirs.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      const bobsEmail = await createEmailRow(prisma(), { mailboxId: bobs.id });
      const reply = await aliceApi.post('/emails', { replyToId: bobsEmail.id, text: 'No.' });
      assert.equal(reply.status, 404);
      const queued = await prisma().email.count({
        where: { mailboxId: { in: [mine.id, bobs.id] }, direction: 'OUTGOING' },
      });
      assert.equal(queued, 0);
      assert.equal(received(mine.emailAddress).length + received(bobs.emailAddress).length, 0);
    });

    test('field errors as problem+json, with the words of the New email form', async () => {
      const mb = await enabledMailbox(alice.user.id);
      const values = { mailboxId: mb.id, to: 'grace@example.org, not an address', cc: 'x@', subject: 'Hi' };
      const bad = await aliceApi.post('/emails', values);
      assert.equal(bad.status, 422);
      assert.equal(bad.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      assert.equal(bad.body.type, '/api/problems/invalid-fields');
      assert.equal(bad.body.errors.to, '"not an address" is not an email address.');
      assert.equal(bad.body.errors.cc, '"x@" is not an email address.');
      // The page, posted the same values, shows the same words.
      await alice.client.get('/emails/new');
      const form = await alice.client.post('/emails', { ...values, submissionId: randomUUID(), bcc: '', text: '' });
      assert.equal(form.status, 422);
      const page = decode(form.text);
      for (const field of ['to', 'cc']) assert.ok(page.includes(bad.body.errors[field]), `the form says ${field}'s`);
      const none = await aliceApi.post('/emails', { mailboxId: mb.id, text: 'To nobody.' });
      assert.equal(none.status, 422);
      assert.equal(none.body.errors.to, 'Enter at least one address in To.');
      const noFrom = await aliceApi.post('/emails', { to: 'grace@example.org' });
      assert.equal(noFrom.body.errors.mailboxId, 'Choose the mailbox to send from.');
      const kind = await aliceApi.post('/emails', { mailboxId: mb.id, to: 5, subject: ['x'] });
      assert.equal(kind.status, 422);
      assert.ok(kind.body.errors.to && kind.body.errors.subject, JSON.stringify(kind.body.errors));
      assert.equal(await prisma().email.count({ where: { mailboxId: mb.id } }), 0, 'nothing queued');
    });

    test("the mailbox's refusals: not enabled for outgoing, not approved, no Gmail sign-in — with the refusal's text and code", async () => {
      const mb = await enabledMailbox(alice.user.id);
      const send = () => aliceApi.post('/emails', { mailboxId: mb.id, to: 'grace@example.org', text: 'Hi.' });
      const refusals: [Record<string, unknown>, string, RegExp][] = [
        [{ enabledForOutgoing: false }, 'NOT_ENABLED_FOR_OUTGOING', /not enabled for outgoing email/],
        [{ enabledForOutgoing: true, emailApproval: 'PENDING' }, 'NOT_APPROVED', /not approved/],
      ];
      for (const [data, code, text] of refusals) {
        await prisma().mailbox.update({ where: { id: mb.id }, data });
        const r = await send();
        assert.equal(r.status, 422, r.text);
        assert.equal(r.body.type, '/api/problems/mailbox-cannot-send');
        assert.equal(r.body.code, code);
        assert.match(r.body.detail, text);
        assert.match(r.body.errors.mailboxId, text, 'the same words as the From field of the form');
      }
      await prisma().mailbox.update({ where: { id: mb.id }, data: { emailApproval: 'APPROVED' } });
      await prisma().gmailGrant.delete({ where: { mailboxId: mb.id } });
      const r = await send();
      assert.equal(r.body.code, 'NO_GRANT');
      assert.match(r.body.detail, /not signed in to Gmail.*Sign in to Gmail/);
      assert.equal(await prisma().email.count({ where: { mailboxId: mb.id } }), 0);
      assert.equal(received(mb.emailAddress).length, 0);
    });

    test('the operation answered with a success, checked against the document', () => {
      const seen = [...(checker.seen.get('post /api/v1/emails') ?? [])];
      assert.ok(
        seen.some((s) => s < 300),
        `statuses seen: ${seen.join(', ')}`,
      );
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: { mailTlsCa: w.mail.ca, sends: { retryBaseMs: 300, ...PATIENT_PROBES } },
  },
);
