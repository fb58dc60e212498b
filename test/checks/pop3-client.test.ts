// The probes' own POP3 client against the POP3 fake and against deliberately broken TLS servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type net from 'node:net';
import { Pop3Client, Pop3Error } from '../../src/mail/pop3-client.ts';
import { startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { makeTestCa } from '../fakes/mail/tls.ts';
import { PATIENT_PROBES } from '../helpers/wait.ts';

/** A TLS server that runs `script` on each connection, for answers no Gmail-like fake would give. */
async function brokenServer(
  script: (socket: tls.TLSSocket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const { certPem, keyPem } = makeTestCa();
  const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => {
    s.on('error', () => {});
    script(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const rejectsWith = async (p: Promise<unknown>, code: string) => {
  await assert.rejects(p, (err: unknown) => err instanceof Pop3Error && err.code === code);
};

describe('Pop3Client', () => {
  let world: MailWorld;
  before(async () => {
    world = await startMailWorld();
    world.tokens.set('tok-1', 'kay@example.com');
    world.accounts.set('kay@example.com', { password: 'pw-1', messages: 2 });
  });
  after(() => world.close());
  const connect = (port: number, timeoutMs: number = PATIENT_PROBES.connectTimeoutMs) =>
    Pop3Client.connect({ host: 'localhost', port, ca: makeTestCa().caPem, timeoutMs });

  it('greets, authenticates with XOAUTH2, runs STAT and QUIT', async () => {
    const client = await connect(world.pop3.port);
    assert.equal(client.greeted, true);
    assert.equal(await client.authXoauth2('kay@example.com', 'tok-1'), '+OK Welcome.');
    assert.deepEqual(await client.stat(), { count: 2, size: 2000 });
    await client.quit();
  });

  it('answers the bad-token challenge and reports the challenge JSON with the -ERR line', async () => {
    const client = await connect(world.pop3.port);
    await assert.rejects(client.authXoauth2('kay@example.com', 'nope'), (err: unknown) => {
      assert.ok(err instanceof Pop3Error);
      assert.equal(err.response, '-ERR [AUTH] Invalid credentials.');
      assert.deepEqual(err.oauthError, { status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' });
      return true;
    });
    client.close();
  });

  it('logs in with USER/PASS', async () => {
    const client = await connect(world.pop3.port);
    assert.equal(await client.login('kay@example.com', 'pw-1'), '+OK Welcome.');
    client.close();
  });

  it('refuses to send a command containing a line break', async () => {
    const client = await connect(world.pop3.port);
    await rejectsWith(client.login('kay@example.com\r\nSTAT', 'x'), 'POP3_CLIENT');
    client.close();
  });

  it('rejects a greeting that is not +OK', async () => {
    const server = await brokenServer((s) => s.write('HELLO there\r\n'));
    await rejectsWith(connect(server.port), 'POP3_PROTOCOL');
    await server.close();
  });

  it('rejects -ERR greetings with the server text', async () => {
    const server = await brokenServer((s) => s.end('-ERR go away\r\n'));
    await assert.rejects(
      connect(server.port),
      (err: unknown) => err instanceof Pop3Error && err.response === '-ERR go away',
    );
    await server.close();
  });

  it('bounds the length of a response line', async () => {
    const server = await brokenServer((s) => s.write(`+OK ${'x'.repeat(20_000)}`));
    await rejectsWith(connect(server.port), 'POP3_PROTOCOL');
    await server.close();
  });

  it('rejects a malformed STAT answer', async () => {
    const server = await brokenServer((s) => {
      s.write('+OK ready\r\n');
      s.on('data', () => s.write('+OK lots\r\n'));
    });
    const client = await connect(server.port);
    await rejectsWith(client.stat(), 'POP3_PROTOCOL');
    client.close();
    await server.close();
  });

  it('reports a server that hangs up mid-conversation', async () => {
    const server = await brokenServer((s) => {
      s.write('+OK ready\r\n');
      s.on('data', () => s.destroy());
    });
    const client = await connect(server.port);
    await rejectsWith(client.stat(), 'CONNECTION_CLOSED');
    await server.close();
  });

  /** A server that answers each command line from `answers` (raw bytes, CRLFs included). */
  const scripted = (answers: Record<string, Buffer | string>) =>
    brokenServer((s) => {
      s.write('+OK ready\r\n');
      let buf = '';
      s.on('data', (chunk: Buffer) => {
        buf += chunk.toString('latin1');
        let nl: number;
        while ((nl = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          s.write(answers[line] ?? '-ERR unknown\r\n');
        }
      });
    });

  it('reads multi-line answers as bytes: dot-unstuffed, 8-bit intact, and the connection usable after', async () => {
    const body = Buffer.concat([
      Buffer.from('Subject: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\r\n\r\n.. one dot\r\n...\r\nend\r\n'),
    ]);
    const server = await scripted({
      UIDL: '+OK\r\n1 GmailIdA\r\n2 GmailIdB\r\n.\r\n',
      LIST: '+OK 2 messages\r\n1 120\r\n2 64\r\n.\r\n',
      'RETR 1': Buffer.concat([
        Buffer.from('+OK 120 octets\r\n'),
        body.subarray(0, 20),
        body.subarray(20),
        Buffer.from('.\r\n'),
      ]),
      STAT: '+OK 2 184\r\n',
    });
    const client = await connect(server.port);
    assert.deepEqual(await client.uidl(), [
      { n: 1, uid: 'GmailIdA' },
      { n: 2, uid: 'GmailIdB' },
    ]);
    assert.deepEqual(await client.list(), [
      { n: 1, size: 120 },
      { n: 2, size: 64 },
    ]);
    const message = await client.retr(1);
    assert.deepEqual(
      message,
      Buffer.concat([
        Buffer.from('Subject: caf'),
        Buffer.from([0xe9]),
        Buffer.from('\r\n\r\n. one dot\r\n..\r\nend\r\n'),
      ]),
    );
    assert.deepEqual(await client.stat(), { count: 2, size: 184 });
    client.close();
    await server.close();
  });

  it('bounds a multi-line answer, reports -ERR, and rejects malformed UIDL lines', async () => {
    const server = await scripted({
      'RETR 1': `+OK\r\n${'x'.repeat(500)}\r\n${'y'.repeat(500)}\r\n.\r\n`,
      'RETR 9': '-ERR no such message\r\n',
      UIDL: '+OK\r\n1 has a space\r\n.\r\n',
    });
    const client = await connect(server.port);
    await assert.rejects(
      client.retr(9),
      (err: unknown) => err instanceof Pop3Error && err.response === '-ERR no such message',
    );
    await rejectsWith(client.uidl(), 'POP3_PROTOCOL');
    await rejectsWith(client.retr(1, 600), 'POP3_TOO_LARGE');
    await rejectsWith(client.stat(), 'POP3_TOO_LARGE'); // the connection is closed after a bound is hit
    await server.close();
  });

  it('times out when no greeting arrives', async () => {
    const server = await brokenServer(() => {}); // completes TLS, never says a word: the timeout is certain
    await rejectsWith(connect(server.port, 300), 'TIMEOUT');
    await server.close();
  });
});
