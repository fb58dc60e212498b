// probeSmtp against the loopback Gmail SMTP fake (npm smtp-server): STARTTLS and implicit TLS, failures, test message.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { probeSmtp, type SmtpProbeOptions } from '../../src/mail/smtp.ts';
import { closedPort, startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { PATIENT_PROBES } from '../helpers/wait.ts';

const USER = 'alan@example.com';
const TOKEN = 'ya29.a0AfH6SMBsmtpTokenValue789';

describe('probeSmtp', () => {
  let world: MailWorld;
  const starttls = () => ({ host: 'localhost', port: world.smtp.starttlsPort, secure: false, starttls: true });
  const implicit = () => ({ host: 'localhost', port: world.smtp.implicitTlsPort, secure: true });
  const opts = (over: Partial<SmtpProbeOptions> = {}): SmtpProbeOptions => ({
    endpoint: starttls(),
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
    world.accounts.set(USER, { password: 'app-password-3' });
    world.smtp.setMode('normal');
    world.smtp.setTransient(null);
    world.smtp.messages.length = 0;
  });

  for (const [name, endpoint] of [
    ['STARTTLS (587)', starttls],
    ['implicit TLS (465)', implicit],
  ] as const) {
    it(`signs in with XOAUTH2 over ${name}`, async () => {
      const steps = await probeSmtp(opts({ endpoint: endpoint() }));
      assert.deepEqual(
        steps.map((s) => [s.id, s.label, s.status]),
        [['outgoing-login', 'Outgoing login (SMTP)', 'ok']],
      );
      assert.equal(world.smtp.messages.length, 0, 'verify must not send anything');
    });

    it(`maps a rejected token to AUTH_FAILED over ${name}`, async () => {
      world.tokens.clear();
      const [login] = await probeSmtp(opts({ endpoint: endpoint() }));
      assert.equal(login?.code, 'AUTH_FAILED');
      assert.match(login?.message ?? '', /535-5\.7\.8 Username and Password not accepted/);
      assert.ok(!JSON.stringify(login).includes(TOKEN));
    });
  }

  it('signs in with a password', async () => {
    const steps = await probeSmtp(opts({ auth: { kind: 'password', user: USER, password: 'app-password-3' } }));
    assert.equal(steps[0]?.status, 'ok');
  });

  it('sends a test message only when asked', async () => {
    const steps = await probeSmtp(opts({ sendTestMessageTo: 'someone@example.org' }));
    assert.deepEqual(
      steps.map((s) => [s.id, s.status]),
      [
        ['outgoing-login', 'ok'],
        ['outgoing-message', 'ok'],
      ],
    );
    assert.equal(world.smtp.messages.length, 1);
    assert.deepEqual(world.smtp.messages[0]?.to, ['someone@example.org']);
    assert.equal(world.smtp.messages[0]?.from, USER);
  });

  it('maps 454 "Too many login attempts" to SMTP_TEMPORARY (transient)', async () => {
    world.smtp.setTransient(454);
    const [login] = await probeSmtp(opts());
    assert.equal(login?.code, 'SMTP_TEMPORARY');
    assert.equal(login?.transient, true);
    assert.match(login?.message ?? '', /454 4\.7\.0/);
  });

  it('maps 421 at connect to SMTP_TEMPORARY', async () => {
    world.smtp.setTransient(421);
    const [login] = await probeSmtp(opts());
    assert.equal(login?.code, 'SMTP_TEMPORARY');
  });

  it('maps an untrusted certificate to TLS_CERT on both ports', async () => {
    world.smtp.setMode('badCert');
    assert.equal((await probeSmtp(opts()))[0]?.code, 'TLS_CERT');
    assert.equal((await probeSmtp(opts({ endpoint: implicit() })))[0]?.code, 'TLS_CERT');
  });

  it('maps a closed port to CONNECTION_REFUSED', async () => {
    const [login] = await probeSmtp(opts({ endpoint: { host: '127.0.0.1', port: await closedPort(), secure: true } }));
    assert.equal(login?.code, 'CONNECTION_REFUSED');
  });

  it('gives up on a server that never greets with TIMEOUT at the connect timeout', async () => {
    world.smtp.setMode('silent');
    for (const endpoint of [starttls(), implicit()]) {
      // The whole-check timeout is a minute away, so only the connect/greeting timeout can end this.
      const [login] = await probeSmtp(opts({ endpoint, connectTimeoutMs: 500 }));
      assert.equal(login?.code, 'TIMEOUT');
      assert.doesNotMatch(login?.message ?? '', /did not finish/, 'the connect timeout, not the whole-check one');
    }
  });
});
