// The Dovecot harness against real clients: imapflow 2.1.2 for IMAP, the project's Pop3Client for POP3, raw lines
// where the exact wire answer matters. Tokens are minted and revoked by the Google fake that Dovecot asks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { Pop3Client, Pop3Error } from '../../src/mail/pop3-client.ts';
import { startFakeGoogle, type FakeGoogle } from './google.ts';
import { GMAIL_SENT, startDovecot, type DovecotServer } from './dovecot.ts';
import { groupMembers } from './dovecot/process.ts';
import { rawConnect, xoauth2 } from './mail/raw-client.ts';

const CLIENT = { clientId: 'dovecot-test.apps.googleusercontent.com', clientSecret: 'secret', redirectUris: [] };
const ADA = 'ada@example.com';
const BOB = 'bob@example.com'; // a credentials-profile mailbox: password only
const BOB_PASSWORD = 'app pass: 1"\\';
const WAIT = 30_000; // the machine is shared: generous, and only an upper bound

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = WAIT,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

let counter = 0;
function message(subject: string, body = 'Hello.\r\n'): { raw: string; messageId: string } {
  const messageId = `<m${++counter}.${process.pid}@mailroom.test>`;
  return {
    messageId,
    raw:
      `From: Sender <sender@example.net>\r\nTo: ${ADA}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n` +
      `Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  };
}

describe('Dovecot harness', () => {
  let google: FakeGoogle;
  let dovecot: DovecotServer;
  let token: string;
  const clients: ImapFlow[] = [];

  function imap(auth: ImapFlowOptions['auth'], endpoint = dovecot.imap): ImapFlow {
    const c = new ImapFlow({
      host: 'localhost',
      port: endpoint.port,
      secure: endpoint.secure,
      tls: { ca: dovecot.ca },
      auth,
      logger: false,
      connectionTimeout: WAIT,
      greetingTimeout: WAIT,
      socketTimeout: 5 * 60_000,
    });
    c.on('error', () => {}); // a kicked connection emits one; the tests look at 'close'
    clients.push(c);
    return c;
  }
  const pop3 = () =>
    Pop3Client.connect({ host: 'localhost', port: dovecot.pop3.port, ca: dovecot.ca, timeoutMs: WAIT });

  before(async () => {
    google = await startFakeGoogle();
    google.addClient(CLIENT);
    for (const email of [ADA, 'carol@example.com', 'dan@example.com']) google.addAccount({ email });
    dovecot = await startDovecot({ google });
    await dovecot.addUser(ADA, { gmail: true });
    await dovecot.addUser(BOB, { password: BOB_PASSWORD });
    token = google.issueTokensFor(ADA, CLIENT.clientId).access_token;
  });

  after(async () => {
    for (const c of clients) c.close();
    const errors = dovecot?.errors() ?? [];
    await dovecot?.stop();
    await google?.close();
    assert.deepEqual(errors, [], 'Dovecot logged errors');
  });

  describe('sign-in', () => {
    it('accepts OAUTHBEARER (imapflow prefers it) with a token the Google fake issued, asking its tokeninfo', async () => {
      const before = google.stats().tokeninfoRequests;
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      assert.ok(c.authenticated);
      assert.ok(google.stats().tokeninfoRequests > before);
      await c.logout();
    });

    it('accepts XOAUTH2 and answers a refused token with the SASL error challenge, then NO [AUTHENTICATIONFAILED]', async () => {
      const c = await rawConnect(dovecot.imap.port);
      assert.match(await c.next(), /^\* OK \[CAPABILITY [^\]]*AUTH=XOAUTH2[^\]]*\]/);
      c.send(`A1 AUTHENTICATE XOAUTH2 ${xoauth2(ADA, 'ya29.unknown')}`);
      const challenge = await c.next();
      assert.match(challenge, /^\+ /);
      const json = JSON.parse(Buffer.from(challenge.slice(2), 'base64').toString()) as Record<string, string>;
      assert.equal(json.status, '401'); // Gmail says 400 with its scope URL: the scripted fake pins Gmail's text
      assert.equal(json.schemes, 'bearer');
      c.send('');
      assert.match(await c.next(), /^A1 NO \[AUTHENTICATIONFAILED\] /);
      c.send(`A2 AUTHENTICATE XOAUTH2 ${xoauth2(ADA, token)}`);
      assert.match(await c.next(), /^A2 OK \[CAPABILITY .*IDLE.*\] Logged in/);
      c.close();
    });

    it('refuses revoked and expired tokens, a token of another account and one without the mail scope', async () => {
      const carol = google.issueTokensFor('carol@example.com', CLIENT.clientId).access_token;
      const dan = google.issueTokensFor('dan@example.com', CLIENT.clientId).access_token;
      const noMail = google.issueTokensFor(ADA, CLIENT.clientId, { scopes: ['openid', 'email'] }).access_token;
      await dovecot.addUser('carol@example.com');
      await dovecot.addUser('dan@example.com');
      google.revokeAllFor('carol@example.com');
      assert.ok(google.expireAccessToken(dan));
      const dansForAda = google.issueTokensFor('dan@example.com', CLIENT.clientId).access_token;
      const cases: [string, string][] = [
        ['carol@example.com', carol],
        ['dan@example.com', dan],
        [ADA, dansForAda],
        [ADA, noMail],
      ];
      for (const [user, accessToken] of cases) {
        const c = imap({ user, accessToken });
        await assert.rejects(c.connect(), (err: { authenticationFailed?: boolean; serverResponseCode?: string }) => {
          assert.equal(err.serverResponseCode, 'AUTHENTICATIONFAILED', `${user}`);
          return true;
        });
        c.close();
      }
      // The scope check is Dovecot's (`scope =`), not the fake's: the same token is live at tokeninfo.
      const info = await fetch(`${google.endpoints.tokeninfo}?access_token=${encodeURIComponent(noMail)}`);
      assert.equal(info.status, 200);
    });

    it('answers every failed login at once: no auth penalty builds up (a valid login follows six failures quickly)', async () => {
      const started = Date.now();
      for (let i = 0; i < 6; i++) {
        const c = imap({ user: ADA, accessToken: `ya29.bad${i}` });
        await assert.rejects(c.connect());
        c.close();
      }
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      await c.logout();
      // Dovecot's default penalty would make this take 2+4+8+15+15 s and more; normal is well under one.
      assert.ok(Date.now() - started < 25_000, `took ${Date.now() - started} ms`);
    });

    it('takes passwords (PLAIN and LOGIN) for credentials profiles, and refuses a wrong one', async () => {
      for (const loginMethod of ['AUTH=PLAIN', 'AUTH=LOGIN']) {
        const c = imap({ user: BOB, pass: BOB_PASSWORD, loginMethod });
        await c.connect();
        assert.ok(c.authenticated);
        await c.logout();
      }
      const wrong = imap({ user: BOB, pass: 'nope' });
      await assert.rejects(wrong.connect(), (err: { serverResponseCode?: string }) => {
        return err.serverResponseCode === 'AUTHENTICATIONFAILED';
      });
      // A password set later replaces the old one at the next login (Dovecot re-reads the file).
      await dovecot.addUser(BOB, { password: 'second' });
      const again = imap({ user: BOB, pass: 'second' });
      await again.connect();
      await again.logout();
      await dovecot.addUser(BOB, { password: BOB_PASSWORD });
    });

    it('offers STARTTLS on the plain port', async () => {
      const c = imap({ user: ADA, accessToken: token }, dovecot.imapStarttls);
      await c.connect();
      assert.equal(c.secureConnection, true); // upgraded by STARTTLS
      assert.ok(c.authenticated);
      await c.logout();
    });
  });

  describe('mailbox', () => {
    it('tells a client idling on INBOX about a delivered message; UID FETCH returns its exact source', async () => {
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      const box = await c.mailboxOpen('INBOX');
      const { exists, uidNext } = box; // imapflow updates `box` in place
      const seen: number[] = [];
      c.on('exists', (e: { count: number }) => seen.push(e.count));
      const idle = c.idle();
      await until('IDLE', () => c.idling);
      const m = message('While idle', 'Delivered while the client was idle.\r\n');
      const delivered = await dovecot.deliver(ADA, m.raw, { internalDate: new Date('2026-11-30T08:00:00Z') });
      assert.equal(delivered.messageId, m.messageId);
      await until('EXISTS', () => seen.includes(exists + 1));
      const uid = await dovecot.uidOf(ADA, delivered);
      assert.ok(uid >= uidNext);
      const msg = await c.fetchOne(
        String(uid),
        { uid: true, source: true, internalDate: true, envelope: true },
        { uid: true },
      );
      assert.ok(msg);
      assert.equal(msg.source?.toString(), m.raw);
      assert.equal(msg.envelope?.messageId, m.messageId);
      assert.equal(new Date(msg.internalDate as Date).toISOString(), '2026-11-30T08:00:00.000Z');
      await c.logout();
      await idle.catch(() => {});
    });

    it('hands an IDLE connection to imap-hibernate, which still announces new mail and can be kicked', async () => {
      const email = 'hibernating@example.com';
      google.addAccount({ email });
      await dovecot.addUser(email);
      const c = imap({ user: email, accessToken: google.issueTokensFor(email, CLIENT.clientId).access_token });
      await c.connect();
      await c.mailboxOpen('INBOX');
      const seen: number[] = [];
      c.on('exists', (e: { count: number }) => seen.push(e.count));
      const idle = c.idle();
      await until('hibernation', async () => (await dovecot.hibernated(email)) === 1 || undefined);
      await dovecot.deliver(email, message('To a hibernated session').raw);
      await until('EXISTS', () => seen.includes(1));
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      assert.equal(await dovecot.kick(email), true);
      await closed;
      await idle.catch(() => {});
    });

    it('lists a folder with UIDs, flags, Message-IDs, internal dates and sizes', async () => {
      const m = message('Flagged and seen');
      const internalDate = new Date('2026-01-02T03:04:05Z');
      const delivered = await dovecot.deliver(ADA, m.raw, { flags: ['\\Seen', '\\Flagged'], internalDate });
      const rows = await dovecot.listFolder(ADA);
      const row = rows.find((r) => r.guid === delivered.guid);
      assert.ok(row);
      assert.deepEqual(row.flags.sort(), ['\\Flagged', '\\Seen']);
      assert.equal(row.messageId, m.messageId);
      assert.equal(row.internalDate.toISOString(), '2026-01-02T03:04:05.000Z');
      assert.equal(row.size, Buffer.byteLength(m.raw));
      assert.deepEqual(
        rows.map((r) => r.uid),
        [...rows.map((r) => r.uid)].sort((a, b) => a - b),
      );
    });

    it('MOVEs a message to an Undeliverable folder (TRYCREATE until it exists)', async () => {
      const m = message('Cannot be processed');
      const delivered = await dovecot.deliver(ADA, m.raw);
      const uid = await dovecot.uidOf(ADA, delivered);
      const raw = await rawConnect(dovecot.imap.port);
      await raw.next();
      for (const [tag, command] of [
        ['A1', `AUTHENTICATE XOAUTH2 ${xoauth2(ADA, token)}`],
        ['A2', 'SELECT INBOX'],
      ]) {
        raw.send(`${tag} ${command}`);
        await until(`${tag} done`, async () => (await raw.next()).startsWith(`${tag} OK`) || undefined);
      }
      raw.send(`A3 UID MOVE ${uid} Undeliverable`);
      assert.match(await raw.next(), /^A3 NO \[TRYCREATE\] /); // imapflow's messageMove() turns this into `false`
      raw.close();
      await dovecot.createFolder(ADA, 'Undeliverable');
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      await c.mailboxOpen('INBOX');
      const moved = await c.messageMove(String(uid), 'Undeliverable', { uid: true });
      assert.ok(moved);
      assert.ok(moved.uidMap?.has(uid));
      await c.logout();
      assert.equal(
        (await dovecot.listFolder(ADA)).some((r) => r.messageId === m.messageId),
        false,
      );
      assert.deepEqual(
        (await dovecot.listFolder(ADA, 'Undeliverable')).map((r) => r.messageId),
        [m.messageId],
      );
    });

    it('changes UIDVALIDITY: the selected session is dropped and the next SELECT reports the new value, UIDs kept', async () => {
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      const box = await c.mailboxOpen('INBOX');
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      const uidsBefore = (await dovecot.listFolder(ADA)).map((r) => r.uid);
      const next = await dovecot.changeUidValidity(ADA);
      assert.ok(next > Number(box.uidValidity));
      await closed;
      const again = imap({ user: ADA, accessToken: token });
      await again.connect();
      const reopened = await again.mailboxOpen('INBOX');
      assert.equal(Number(reopened.uidValidity), next);
      assert.equal(await dovecot.uidValidity(ADA), next);
      assert.deepEqual(
        (await dovecot.listFolder(ADA)).map((r) => r.uid),
        uidsBefore,
      );
      await again.logout();
    });

    it('has Gmail\'s folders with their SPECIAL-USE flags, and delivers into "[Gmail]/Sent Mail"', async () => {
      const m = message('Sent from Gmail');
      await dovecot.deliver(ADA, m.raw, { folder: GMAIL_SENT, flags: ['\\Seen'] });
      const c = imap({ user: ADA, accessToken: token });
      await c.connect();
      const list = await c.list();
      assert.equal(list.find((f) => f.specialUse === '\\Sent')?.path, GMAIL_SENT);
      assert.ok(list.find((f) => f.path === '[Gmail]')?.flags.has('\\Noselect'));
      const lock = await c.getMailboxLock(GMAIL_SENT);
      try {
        const ids: string[] = [];
        for await (const msg of c.fetch('1:*', { envelope: true })) ids.push(msg.envelope?.messageId ?? '');
        assert.deepEqual(ids, [m.messageId]);
      } finally {
        lock.release();
      }
      await c.logout();
      await assert.rejects(dovecot.deliver(ADA, m.raw, { folder: 'No such folder' }), /No folder "No such folder"/);
    });
  });

  describe('connections', () => {
    it('kick drops every connection of the user; connections() counts them', async () => {
      const sessions = [imap({ user: ADA, accessToken: token }), imap({ user: ADA, accessToken: token })];
      await Promise.all(sessions.map((s) => s.connect()));
      await until('two connections', async () => (await dovecot.connections(ADA)) === 2 || undefined);
      const closed = sessions.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
      assert.equal(await dovecot.kick(ADA), true);
      await Promise.all(closed);
      await until('no connection', async () => (await dovecot.connections(ADA)) === 0 || undefined);
      assert.equal(await dovecot.kick(ADA), false);
    });

    it("lets one user hold more than Dovecot's default 10 connections from one IP", async () => {
      const sessions = Array.from({ length: 15 }, () => imap({ user: ADA, accessToken: token }));
      await Promise.all(sessions.map((s) => s.connect()));
      await Promise.all(sessions.map((s) => s.mailboxOpen('INBOX')));
      await Promise.all(sessions.map((s) => s.logout()));
    });
  });

  describe('POP3', () => {
    it('signs in with XOAUTH2 through Pop3Client; UIDL ids are stable across sessions and RETR returns the message', async () => {
      const m1 = message('POP one');
      const m2 = message('POP two', '.starts with a dot\r\n..two dots\r\n');
      await dovecot.deliver(ADA, m1.raw);
      await dovecot.deliver(ADA, m2.raw);
      const a = await pop3();
      await a.authXoauth2(ADA, token);
      const first = await a.uidl();
      const { count } = await a.stat();
      assert.equal(first.length, count);
      assert.equal(new Set(first.map((u) => u.uid)).size, count);
      const texts: string[] = [];
      for (const { n } of first) texts.push((await a.retr(n)).toString());
      assert.ok(texts.includes(m1.raw));
      assert.ok(texts.includes(m2.raw), 'dot-stuffed lines come back unstuffed');
      const sizes = await a.list();
      assert.deepEqual(
        sizes.map((s) => s.n),
        first.map((u) => u.n),
      );
      await a.quit();

      await dovecot.deliver(ADA, message('POP three').raw);
      const b = await pop3();
      await b.authXoauth2(ADA, token);
      const second = await b.uidl();
      assert.equal(second.length, first.length + 1);
      assert.deepEqual(second.slice(0, first.length), first, 'ids of messages already there do not change');
      await b.quit();
    });

    it('refuses a revoked token and takes USER/PASS for a credentials mailbox', async () => {
      await dovecot.deliver(BOB, message('For Bob').raw);
      const bad = await pop3();
      await assert.rejects(bad.authXoauth2(ADA, 'ya29.unknown'), (err: unknown) => {
        return err instanceof Pop3Error && err.code === 'POP3_AUTH';
      });
      bad.close();
      const c = await pop3();
      await c.login(BOB, BOB_PASSWORD);
      assert.equal((await c.uidl()).length, 1);
      await c.quit();
    });
  });
});

/** Any process of Dovecot's group still running (zombies waiting for init excepted). */
const groupAlive = (pgid: number): boolean => groupMembers(pgid).length > 0;

describe('Dovecot harness lifecycle', () => {
  it('runs two instances side by side and leaves no process and no directory after stop()', async () => {
    const google = await startFakeGoogle();
    const [one, two] = await Promise.all([startDovecot({ google }), startDovecot({ google })]);
    assert.notEqual(one.imap.port, two.imap.port);
    assert.notEqual(one.dir, two.dir);
    for (const d of [one, two]) {
      await d.addUser(ADA, { password: 'pw' });
      const c = await Pop3Client.connect({ host: 'localhost', port: d.pop3.port, ca: d.ca, timeoutMs: WAIT });
      await c.login(ADA, 'pw');
      await c.quit();
    }
    await one.stop();
    assert.equal(groupAlive(one.pid), false);
    assert.equal(existsSync(one.dir), false);
    assert.equal(groupAlive(two.pid), true);
    await two.stop();
    await two.stop(); // idempotent
    assert.equal(groupAlive(two.pid), false);
    await google.close();
  });

  it('goes away with the test process even when that process is killed with SIGKILL', async () => {
    // A separate process starts Dovecot, prints its pid and waits; killing it must take Dovecot along.
    const code = `import { startFakeGoogle } from './test/fakes/google.ts';
      import { startDovecot } from './test/fakes/dovecot.ts';
      const d = await startDovecot({ google: await startFakeGoogle() });
      console.log(JSON.stringify({ pid: d.pid, dir: d.dir }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const started = await until(
      'the child to start Dovecot',
      () => {
        return out.includes('\n') ? (JSON.parse(out) as { pid: number; dir: string }) : undefined;
      },
      60_000,
    );
    assert.equal(groupAlive(started.pid), true);
    child.kill('SIGKILL');
    await until('Dovecot to stop', () => !groupAlive(started.pid) || undefined);
    rmSync(started.dir, { recursive: true, force: true }); // nobody was left to clean up
  });
});
