// probePop3 against the loopback Gmail POP3 fake: success paths and every mapped failure.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { probePop3 } from '../../src/mail/pop3.ts';
import type { ProbeOptions } from '../../src/mail/types.ts';
import { closedPort, startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { PATIENT_PROBES } from '../helpers/wait.ts';

const USER = 'grace@example.com';
const TOKEN = 'ya29.a0AfH6SMBpopTokenValue456';

describe('probePop3', () => {
  let world: MailWorld;
  const opts = (over: Partial<ProbeOptions> = {}): ProbeOptions => ({
    endpoint: { host: 'localhost', port: world.pop3.port, secure: true },
    auth: { kind: 'xoauth2', user: USER, accessToken: TOKEN },
    ca: world.ca,
    ...PATIENT_PROBES,
    ...over,
  });

  before(async () => {
    world = await startMailWorld();
  });
  after(() => world.close());
  beforeEach(() => {
    world.tokens.clear();
    world.tokens.set(TOKEN, USER);
    world.accounts.clear();
    world.accounts.set(USER, { password: 'app-password-2', messages: 5 });
    world.pop3.setMode('normal');
    world.pop3.setDelay(0);
  });

  it('signs in with XOAUTH2 and runs STAT', async () => {
    const steps = await probePop3(opts());
    assert.deepEqual(
      steps.map((s) => [s.id, s.label, s.status]),
      [
        ['incoming-login', 'Incoming login (POP3)', 'ok'],
        ['incoming-mailbox', 'Mailbox status (STAT)', 'ok'],
      ],
    );
    assert.match(steps[1]?.message ?? '', /5 messages/);
  });

  it('signs in with USER/PASS', async () => {
    const steps = await probePop3(opts({ auth: { kind: 'password', user: USER, password: 'app-password-2' } }));
    assert.deepEqual(
      steps.map((s) => s.status),
      ['ok', 'ok'],
    );
  });

  it('maps a rejected token to AUTH_FAILED after answering the challenge', async () => {
    world.tokens.clear();
    const steps = await probePop3(opts());
    assert.equal(steps[0]?.code, 'AUTH_FAILED');
    assert.equal(steps[0]?.message, '-ERR [AUTH] Invalid credentials.');
    assert.equal(steps[1]?.status, 'skip');
    assert.ok(!JSON.stringify(steps).includes(TOKEN));
  });

  it('maps a wrong password to AUTH_FAILED', async () => {
    const [login] = await probePop3(opts({ auth: { kind: 'password', user: USER, password: 'nope-nope' } }));
    assert.equal(login?.code, 'AUTH_FAILED');
    assert.ok(!JSON.stringify(login).includes('nope-nope'));
  });

  it('reports POP turned off at STAT, as Gmail does (login itself succeeds)', async () => {
    world.accounts.set(USER, { popEnabled: false });
    const [login, stat] = await probePop3(opts());
    assert.equal(login?.status, 'ok');
    assert.equal(stat?.status, 'fail');
    assert.equal(stat?.code, 'POP_DISABLED');
    assert.match(stat?.hint ?? '', /Enable POP/);
  });

  it('maps the Workspace domain policy to ADMIN_POLICY', async () => {
    world.accounts.set(USER, { adminPolicyBlocked: true });
    const [login] = await probePop3(opts());
    assert.equal(login?.code, 'ADMIN_POLICY');
  });

  it('maps too many simultaneous connections to TOO_MANY_CONNECTIONS', async () => {
    world.accounts.set(USER, { tooManyConnections: true });
    const [login] = await probePop3(opts());
    assert.equal(login?.code, 'TOO_MANY_CONNECTIONS');
  });

  it('maps an untrusted certificate to TLS_CERT', async () => {
    world.pop3.setMode('badCert');
    const [login] = await probePop3(opts());
    assert.equal(login?.code, 'TLS_CERT');
  });

  it('maps a closed port to CONNECTION_REFUSED', async () => {
    const [login] = await probePop3(opts({ endpoint: { host: '127.0.0.1', port: await closedPort(), secure: true } }));
    assert.equal(login?.code, 'CONNECTION_REFUSED');
  });

  // Each timer is the only one that can fire (the other is a minute away); their messages tell them apart.
  it('gives up on a silent server with TIMEOUT at the connect timeout', async () => {
    world.pop3.setMode('silent');
    const steps = await probePop3(opts({ connectTimeoutMs: 500 }));
    assert.equal(steps[0]?.code, 'TIMEOUT');
    assert.doesNotMatch(steps[0]?.message ?? '', /did not finish/, 'the connect timeout, not the whole-check one');
  });

  it('stops the whole check at totalTimeoutMs when the server is slow', async () => {
    world.pop3.setDelay(300); // greeting, AUTH, STAT: three answers of 300 ms cannot fit in 500 ms
    const steps = await probePop3(opts({ totalTimeoutMs: 500 }));
    const timeout = steps.find((s) => s.code === 'TIMEOUT');
    assert.match(timeout?.message ?? '', /did not finish within 500 ms/);
  });

  it('refuses a non-TLS endpoint without connecting', async () => {
    const before = world.pop3.stats().connections;
    const [login] = await probePop3(opts({ endpoint: { host: 'localhost', port: world.pop3.port, secure: false } }));
    assert.equal(login?.code, 'TLS_REQUIRED');
    assert.equal(world.pop3.stats().connections, before);
  });
});
