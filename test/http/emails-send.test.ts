// New email and Reply through HTTP on both engines: the form offers only the user's own mailboxes, addresses are
// checked field by field (the form re-renders with what was typed), another user's mailbox is a 404 and their emails
// stay invisible, a reply fills To, "Re:" and the threading headers, and the same form posted twice sends once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { createEmailRow } from '../helpers/mail-records.ts';
import { decode, textOf } from '../helpers/html.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const w: GmailWorld = await startGmailWorld();
after(() => w.close());

const hidden = (html: string, name: string) =>
  decode(new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '');
const fieldValue = (html: string, name: string) =>
  decode(new RegExp(`id="f-${name}" name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1] ?? '');
const fieldError = (html: string, name: string) =>
  decode(new RegExp(`id="f-${name}-error">([^<]*)<`).exec(html)?.[1] ?? '');

describeEachDb(
  'emails: New email and Reply',
  (ctx) => {
    const prisma = () => ctx().db.prisma;
    let ada: TestClient;
    let bob: TestClient;
    let adaMb: { id: string; emailAddress: string };
    let bobMb: { id: string; emailAddress: string };

    before(async () => {
      const a = await ctx().signedIn('USER');
      const b = await ctx().signedIn('USER');
      ada = a.client;
      bob = b.client;
      const profile = await createGmailProfile(prisma(), ctx().sealer, w);
      const enable = (id: string) =>
        prisma().mailbox.update({ where: { id }, data: { enabledForOutgoing: true, outgoingStatus: 'SUCCESS' } });
      adaMb = await enable(
        (await createConnectedMailbox(prisma(), ctx().sealer, w, { ownerId: a.user.id, profileId: profile.id })).id,
      );
      bobMb = await enable(
        (await createConnectedMailbox(prisma(), ctx().sealer, w, { ownerId: b.user.id, profileId: profile.id })).id,
      );
    });

    const form = (o: Record<string, string>) => ({
      submissionId: randomUUID(),
      mailboxId: adaMb.id,
      to: 'grace@example.org',
      subject: 'Hello',
      text: 'Hi.',
      ...o,
    });

    test('the list and the mailbox record lead to New email; the form offers only her own mailboxes', async () => {
      const list = await ada.get('/emails');
      assert.match(list.text, /href="\/emails\/new"[^>]*>New email</);
      const record = await ada.get(`/mailboxes/${adaMb.id}`);
      assert.match(record.text, new RegExp(`href="/emails/new\\?mailbox=${adaMb.id}"`));
      const page = await ada.get(`/emails/new?mailbox=${adaMb.id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`<option value="${adaMb.id}" selected`));
      assert.ok(!page.text.includes(bobMb.id));
      assert.match(hidden(page.text, 'submissionId'), /^[0-9a-f-]{36}$/);
    });

    test('address validation: each field names its bad address, what was typed stays, nothing is queued', async () => {
      const before = await prisma().email.count();
      const res = await ada.post(
        '/emails',
        form({ to: 'grace@example.org, not an address', cc: 'ok@example.com; @nope', bcc: 'x@', subject: 'Keep me' }),
      );
      assert.equal(res.status, 422);
      assert.equal(fieldError(res.text, 'to'), '"not an address" is not an email address.');
      assert.equal(fieldError(res.text, 'cc'), '"@nope" is not an email address.');
      assert.equal(fieldError(res.text, 'bcc'), '"x@" is not an email address.');
      assert.equal(fieldValue(res.text, 'to'), 'grace@example.org, not an address');
      assert.equal(fieldValue(res.text, 'subject'), 'Keep me');
      assert.match(textOf(res.text), /The email was not sent\. Correct the fields marked below\./);
      const empty = await ada.post('/emails', form({ to: '  ' }));
      assert.equal(empty.status, 422);
      assert.equal(fieldError(empty.text, 'to'), 'Enter at least one address in To.');
      const many = await ada.post(
        '/emails',
        form({ to: Array.from({ length: 101 }, (_, i) => `r${i}@example.org`).join(', ') }),
      );
      assert.equal(many.status, 422);
      assert.match(fieldError(many.text, 'to'), /At most 100 recipients/);
      assert.equal(await prisma().email.count(), before);
    });

    test("sending from another user's mailbox is a 404, and their emails stay invisible", async () => {
      const before = await prisma().email.count();
      const res = await ada.post('/emails', form({ mailboxId: bobMb.id }));
      assert.equal(res.status, 404);
      assert.equal(await prisma().email.count(), before);
      const bobsMail = await bob.post('/emails', form({ mailboxId: bobMb.id, subject: 'Bob private' }));
      assert.equal(bobsMail.status, 303, bobsMail.text.slice(0, 500));
      const id = bobsMail.location!.split('/').pop()!;
      assert.equal((await ada.get(`/emails/${id}`)).status, 404);
      assert.ok(!(await ada.get('/emails')).text.includes('Bob private'));
      const status = await ada.get(`/emails/status.json?ids=${id}`);
      assert.deepEqual(JSON.parse(status.text), { emails: [] });
      assert.equal((await ada.get(`/emails/new?reply=${id}`)).status, 404);
    });

    test('Reply fills To, "Re:" and threading headers; the sent message carries In-Reply-To and References', async () => {
      const incoming = await createEmailRow(prisma(), {
        mailboxId: adaMb.id,
        fromAddress: 'grace@example.org',
        fromName: 'Grace Hopper',
        subject: 'Compilers',
        messageId: '<orig-1@example.org>',
        references: ['<root@example.org>'],
      });
      const record = await ada.get(`/emails/${incoming.id}`);
      assert.match(record.text, new RegExp(`href="/emails/new\\?reply=${incoming.id}"[^>]*>Reply<`));
      const page = await ada.get(`/emails/new?reply=${incoming.id}`);
      assert.equal(page.status, 200);
      assert.equal(fieldValue(page.text, 'to'), '"Grace Hopper" <grace@example.org>');
      assert.equal(fieldValue(page.text, 'subject'), 'Re: Compilers');
      assert.equal(hidden(page.text, 'replyToId'), incoming.id);
      const sent = await ada.post('/emails', {
        submissionId: hidden(page.text, 'submissionId'),
        replyToId: incoming.id,
        mailboxId: adaMb.id,
        to: fieldValue(page.text, 'to'),
        subject: fieldValue(page.text, 'subject'),
        text: 'Agreed.',
      });
      assert.equal(sent.status, 303, sent.text.slice(0, 500));
      const id = sent.location!.split('/').pop()!;
      const e = await waitFor('the reply to be sent', async () => {
        const row = await prisma().email.findUniqueOrThrow({ where: { id } });
        return row.status === 'SENT' ? row : undefined;
      });
      assert.equal(e.inReplyTo, '<orig-1@example.org>');
      assert.deepEqual(e.references, ['<root@example.org>', '<orig-1@example.org>']);
      const raw = w.mail.smtp.messages.find((m) => m.raw.includes(e.messageId))!.raw.replace(/\r\n[ \t]+/g, ' ');
      assert.match(raw, /^In-Reply-To: <orig-1@example\.org>$/m);
      assert.match(raw, /^References: <root@example\.org> <orig-1@example\.org>$/m);
      assert.match(raw, /^Subject: Re: Compilers$/m);
      const shown = textOf((await ada.get(`/emails/${id}`)).text);
      assert.match(shown, /Sent/);
      assert.match(shown, /Server response\s*250 2\.0\.0 OK/);
    });

    test('the same form posted twice: one email, one message, both answers lead to it', async () => {
      const f = form({ subject: `Twice ${randomUUID()}` });
      const [a, b] = await Promise.all([ada.post('/emails', f), ada.post('/emails', f)]);
      assert.equal(a.status, 303);
      assert.equal(b.status, 303);
      assert.equal(a.location, b.location);
      const id = a.location!.split('/').pop()!;
      await waitFor('the email to be sent', async () =>
        (await prisma().email.findUniqueOrThrow({ where: { id } })).status === 'SENT' ? true : undefined,
      );
      assert.equal(await prisma().email.count({ where: { subject: f.subject } }), 1);
      assert.equal(w.mail.smtp.messages.filter((m) => m.raw.includes(f.subject)).length, 1);
      // Bob cannot reuse Ada's form id to reach her email.
      const stolen = await bob.post('/emails', { ...f, mailboxId: bobMb.id });
      assert.equal(stolen.status, 422);
      assert.match(textOf(stolen.text), /already used/);
    });

    test('a mailbox that cannot send is shown with the reason and refused', async () => {
      await prisma().mailbox.update({ where: { id: adaMb.id }, data: { enabledForOutgoing: false } });
      try {
        const page = await ada.get('/emails/new');
        assert.match(textOf(page.text), /cannot send: The mailbox is not enabled for outgoing email\./);
        const res = await ada.post('/emails', form({}));
        assert.equal(res.status, 422);
        assert.match(fieldError(res.text, 'mailboxId'), /not enabled for outgoing email.*Test & Enable Mailbox/);
      } finally {
        await prisma().mailbox.update({ where: { id: adaMb.id }, data: { enabledForOutgoing: true } });
      }
    });
  },
  {
    jobs: true,
    env: { ...w.googleEnv },
    app: { mailTlsCa: w.mail.ca, sends: { retryBaseMs: 300, ...PATIENT_PROBES } },
  },
);
