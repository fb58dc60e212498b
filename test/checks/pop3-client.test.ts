// The probes' own POP3 client against the POP3 fake and against deliberately broken TLS servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type net from 'node:net';
import { Pop3Client, Pop3Error } from '../../src/checks/pop3-client.ts';
import { startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { makeTestCa } from '../fakes/mail/tls.ts';
import { PATIENT_PROBES } from '../helpers/wait.ts';

/** A TLS server that runs `script` on each connection, for answers no Gmail-like fake would give. */
async function brokenServer(script: (socket: tls.TLSSocket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const { certPem, keyPem } = makeTestCa();
  const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => { s.on('error', () => {}); script(s); });
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
  const connect = (port: number, timeoutMs: number = PATIENT_PROBES.connectTimeoutMs) => Pop3Client.connect({ host: 'localhost', port, ca: makeTestCa().caPem, timeoutMs });

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
    await assert.rejects(connect(server.port), (err: unknown) => err instanceof Pop3Error && err.response === '-ERR go away');
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

  it('times out when no greeting arrives', async () => {
    const server = await brokenServer(() => {}); // completes TLS, never says a word: the timeout is certain
    await rejectsWith(connect(server.port, 300), 'TIMEOUT');
    await server.close();
  });
});
