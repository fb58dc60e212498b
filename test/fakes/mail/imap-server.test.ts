// Pins the IMAP fake's wire answers to Gmail's, and its command parser.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAP_CAPABILITY_PREAUTH, startImapServer, type FakeImapServer } from './imap-server.ts';
import { matchesPattern, parseCommand } from './imap-parse.ts';
import { rawConnect, xoauth2, b64 } from './raw-client.ts';
import type { MailAccountBehaviour } from './world.ts';

const CHALLENGE = 'eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==';

describe('IMAP fake', () => {
  let server: FakeImapServer;
  const accounts = new Map<string, MailAccountBehaviour>();
  before(async () => {
    server = await startImapServer({
      verifyBearer: (u, t) => u === 'eve@example.com' && t === 'good',
      accounts,
      maxConnectionsPerUser: 1,
    });
  });
  after(() => server.close());
  beforeEach(() => {
    accounts.clear();
    accounts.set('eve@example.com', { password: 'p w"1' });
  });

  it('greets and lists Gmail capabilities', async () => {
    const c = await rawConnect(server.port);
    assert.match(await c.next(), /^\* OK Gimap ready for requests from 127\.0\.0\.1 /);
    c.send('A0 CAPABILITY');
    assert.equal(await c.next(), `* CAPABILITY ${IMAP_CAPABILITY_PREAUTH}`);
    assert.match(await c.next(), /^A0 OK /);
    c.close();
  });

  it('answers a bad XOAUTH2 token with the JSON challenge, then NO after the empty line', async () => {
    const c = await rawConnect(server.port);
    await c.next();
    c.send(`A1 AUTHENTICATE XOAUTH2 ${xoauth2('eve@example.com', 'bad')}`);
    assert.equal(await c.next(), `+ ${CHALLENGE}`);
    c.send('');
    assert.equal(await c.next(), 'A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)');
    c.close();
  });

  it('takes XOAUTH2 through a continuation when there is no initial response', async () => {
    const c = await rawConnect(server.port);
    await c.next();
    c.send('A1 AUTHENTICATE XOAUTH2');
    assert.equal(await c.next(), '+ ');
    c.send(xoauth2('eve@example.com', 'good'));
    assert.match(await c.next(), /^\* CAPABILITY /);
    assert.equal(await c.next(), 'A1 OK eve@example.com authenticated (Success)');
    c.send('A2 LOGOUT');
    assert.equal(await c.next(), '* BYE LOGOUT Requested');
    assert.equal(await c.next(), 'A2 OK 73 good day (Success)');
    c.close();
  });

  it('says IMAP is not enabled after a valid sign-in', async () => {
    accounts.set('eve@example.com', { imapEnabled: false });
    const c = await rawConnect(server.port);
    await c.next();
    c.send(`A1 AUTHENTICATE XOAUTH2 ${xoauth2('eve@example.com', 'good')}`);
    assert.equal(
      await c.next(),
      'A1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
    );
    c.close();
  });

  it('accepts LOGIN with a synchronising literal and enforces the per-user connection limit', async () => {
    const a = await rawConnect(server.port);
    await a.next();
    a.send('A1 LOGIN eve@example.com {5}');
    assert.equal(await a.next(), '+ Ready for additional command text.');
    a.send('p w"1');
    await a.next(); // * CAPABILITY
    assert.equal(await a.next(), 'A1 OK eve@example.com authenticated (Success)');
    const b = await rawConnect(server.port);
    await b.next();
    b.send(`B1 AUTHENTICATE PLAIN ${b64('\x00eve@example.com\x00p w"1')}`);
    assert.equal(await b.next(), 'B1 NO [ALERT] Too many simultaneous connections. (Failure)');
    assert.ok(server.stats().maxConcurrent >= 2);
    a.close();
    b.close();
  });
});

describe('parseCommand', () => {
  it('parses atoms, quoted strings, lists, NIL and literals', () => {
    assert.deepEqual(parseCommand('a1 ID ("name" "imap\\"flow" "x" NIL)'), {
      tag: 'a1',
      name: 'ID',
      args: [['name', 'imap"flow', 'x', null]],
    });
    assert.deepEqual(parseCommand('7 LIST "" "INBOX" RETURN (SPECIAL-USE SUBSCRIBED)').args, [
      '',
      'INBOX',
      'RETURN',
      ['SPECIAL-USE', 'SUBSCRIBED'],
    ]);
    assert.deepEqual(parseCommand('3 LOGIN {3}\r\nabc {2+}\r\nxy').args, ['abc', 'xy']);
  });
  it('throws on malformed input', () => {
    assert.throws(() => parseCommand('* NOOP'));
    assert.throws(() => parseCommand('a1 LOGIN "unterminated'));
  });
  it('matches LIST wildcards', () => {
    assert.ok(matchesPattern('[Gmail]/Sent Mail', '*'));
    assert.ok(!matchesPattern('[Gmail]/Sent Mail', '%'));
    assert.ok(matchesPattern('INBOX', 'inbox'));
  });
});
