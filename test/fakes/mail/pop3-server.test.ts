// Pins the POP3 fake's wire answers to Gmail's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPop3Server, type FakePop3Server } from './pop3-server.ts';
import { rawConnect, xoauth2 } from './raw-client.ts';
import type { MailAccountBehaviour } from './world.ts';

describe('POP3 fake', () => {
  let server: FakePop3Server;
  const accounts = new Map<string, MailAccountBehaviour>([['pat@example.com', { popEnabled: false }]]);
  before(async () => {
    server = await startPop3Server({ verifyBearer: (_u, t) => t === 'good', accounts });
  });
  after(() => server.close());

  it('greets like Gpop and lists capabilities', async () => {
    const c = await rawConnect(server.port);
    assert.match(await c.next(), /^\+OK Gpop ready for requests from 127\.0\.0\.1 /);
    c.send('CAPA');
    const lines: string[] = [];
    for (let l = await c.next(); l !== '.'; l = await c.next()) lines.push(l);
    assert.ok(lines.includes('SASL PLAIN XOAUTH2 OAUTHBEARER'));
    assert.ok(lines.includes('USER'));
    c.close();
  });

  it('logs a POP-disabled account in, then refuses STAT', async () => {
    const c = await rawConnect(server.port);
    await c.next();
    c.send('AUTH XOAUTH2');
    assert.equal(await c.next(), '+ ');
    c.send(xoauth2('pat@example.com', 'good'));
    assert.equal(await c.next(), '+OK Welcome.');
    c.send('STAT');
    assert.equal(
      await c.next(),
      '-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.',
    );
    c.send('QUIT');
    assert.equal(await c.next(), '+OK Farewell.');
    c.close();
  });

  it('challenges a bad token and then answers -ERR [AUTH]', async () => {
    const c = await rawConnect(server.port);
    await c.next();
    c.send(`AUTH XOAUTH2 ${xoauth2('pat@example.com', 'bad')}`);
    assert.match(await c.next(), /^\+ eyJzdGF0dXMiOiI0MDAi/);
    c.send('');
    assert.equal(await c.next(), '-ERR [AUTH] Invalid credentials.');
    c.close();
  });
});
