// probeImap against the loopback Gmail IMAP fake: success paths and every mapped failure.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { probeImap } from '../../src/mail/imap.ts';
import type { ProbeOptions, Step } from '../../src/mail/types.ts';
import { closedPort, startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { PATIENT_PROBES, waitFor } from '../helpers/wait.ts';

const USER = 'ada@example.com';
const TOKEN = 'ya29.a0AfH6SMBimapTokenValue123';

describe('probeImap', () => {
  let world: MailWorld;
  const opts = (over: Partial<ProbeOptions> = {}): ProbeOptions => ({
    endpoint: { host: 'localhost', port: world.imap.port, secure: true },
    auth: { kind: 'xoauth2', user: USER, accessToken: TOKEN },
    ca: world.ca,
    ...PATIENT_PROBES,
    ...over,
  });
  const byId = (steps: Step[], id: string) => steps.find((s) => s.id === id);

  before(async () => {
    world = await startMailWorld({ maxConnectionsPerUser: 15 });
  });
  after(() => world.close());
  beforeEach(() => {
    world.tokens.clear();
    world.tokens.set(TOKEN, USER);
    world.accounts.clear();
    world.accounts.set(USER, { password: 'app-password-1', messages: 3 });
    world.imap.setMode('normal');
    world.imap.setDelay(0);
  });

  it('signs in with XOAUTH2/OAUTHBEARER and opens INBOX', async () => {
    const steps = await probeImap(opts());
    assert.deepEqual(
      steps.map((s) => [s.id, s.label, s.status]),
      [
        ['incoming-login', 'Incoming login (IMAP)', 'ok'],
        ['incoming-mailbox', 'Open INBOX', 'ok'],
      ],
    );
    assert.match(byId(steps, 'incoming-mailbox')?.message ?? '', /3 messages/);
  });

  it('sends only what the check needs: no ENABLE after the login', async () => {
    const before = { ...world.imap.stats().commands };
    const steps = await probeImap(opts());
    assert.deepEqual(
      steps.map((s) => s.status),
      ['ok', 'ok'],
    );
    const sent = Object.fromEntries(
      Object.entries(world.imap.stats().commands ?? {}).map(([k, n]) => [k, n - (before[k] ?? 0)]),
    );
    assert.equal(sent.ENABLE ?? 0, 0, `commands: ${JSON.stringify(sent)}`);
    assert.equal(sent.AUTHENTICATE, 1);
  });

  it('signs in with a password (app password)', async () => {
    const steps = await probeImap(opts({ auth: { kind: 'password', user: USER, password: 'app-password-1' } }));
    assert.deepEqual(
      steps.map((s) => s.status),
      ['ok', 'ok'],
    );
  });

  it('maps a rejected token to AUTH_FAILED, skips INBOX and never echoes the token', async () => {
    world.tokens.clear();
    const steps = await probeImap(opts());
    const login = byId(steps, 'incoming-login');
    assert.equal(login?.status, 'fail');
    assert.equal(login?.code, 'AUTH_FAILED');
    assert.equal(login?.transient, false);
    assert.match(login?.message ?? '', /AUTHENTICATIONFAILED/);
    assert.ok(login?.hint);
    assert.equal(byId(steps, 'incoming-mailbox')?.status, 'skip');
    assert.ok(!JSON.stringify(steps).includes(TOKEN));
  });

  it('maps a wrong password to AUTH_FAILED', async () => {
    const steps = await probeImap(opts({ auth: { kind: 'password', user: USER, password: 'wrong' } }));
    assert.equal(steps[0]?.code, 'AUTH_FAILED');
    assert.ok(!JSON.stringify(steps).includes('wrong'));
  });

  it('maps IMAP turned off in Gmail settings to IMAP_DISABLED', async () => {
    world.accounts.set(USER, { imapEnabled: false });
    const [login] = await probeImap(opts());
    assert.equal(login?.code, 'IMAP_DISABLED');
    assert.match(login?.message ?? '', /not enabled for IMAP/);
    assert.match(login?.hint ?? '', /Enable IMAP/);
  });

  it('maps the Workspace domain policy to ADMIN_POLICY', async () => {
    world.accounts.set(USER, { adminPolicyBlocked: true });
    const [login] = await probeImap(opts());
    assert.equal(login?.code, 'ADMIN_POLICY');
  });

  it('maps too many simultaneous connections to TOO_MANY_CONNECTIONS', async () => {
    world.accounts.set(USER, { tooManyConnections: true });
    const [login] = await probeImap(opts());
    assert.equal(login?.code, 'TOO_MANY_CONNECTIONS');
    assert.equal(login?.transient, true);
  });

  it('maps an untrusted certificate to TLS_CERT', async () => {
    world.imap.setMode('badCert');
    const [login] = await probeImap(opts());
    assert.equal(login?.code, 'TLS_CERT');
  });

  it('maps a certificate for another host name to TLS_CERT', async () => {
    world.imap.setMode('wrongHost');
    const [login] = await probeImap(opts());
    assert.equal(login?.code, 'TLS_CERT');
  });

  it('maps a closed port to CONNECTION_REFUSED (transient)', async () => {
    const [login] = await probeImap(opts({ endpoint: { host: '127.0.0.1', port: await closedPort(), secure: true } }));
    assert.equal(login?.code, 'CONNECTION_REFUSED');
    assert.equal(login?.transient, true);
  });

  // The two timeout tests make each timer the only one that can fire (the other is a minute away) and tell them
  // apart by their messages, not by the clock: a busy machine only makes a silent server more silent.
  it('gives up on a silent server with TIMEOUT at the connect timeout', async () => {
    world.imap.setMode('silent');
    const steps = await probeImap(opts({ connectTimeoutMs: 500 }));
    assert.equal(steps[0]?.code, 'TIMEOUT');
    assert.equal(steps[0]?.transient, true);
    assert.doesNotMatch(steps[0]?.message ?? '', /did not finish/, 'the connect timeout, not the whole-check one');
    assert.equal(steps[1]?.status, 'skip');
  });

  it('stops the whole check at totalTimeoutMs when the server is slow', async () => {
    world.imap.setDelay(300); // four answers of 300 ms each cannot fit in 700 ms
    const steps = await probeImap(opts({ totalTimeoutMs: 700 }));
    const timeout = steps.find((s) => s.code === 'TIMEOUT');
    assert.match(timeout?.message ?? '', /did not finish within 700 ms/);
  });

  it('reports CANCELLED when the caller aborts', async () => {
    world.imap.setMode('silent');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const [login] = await probeImap(opts({ signal: controller.signal }));
    assert.equal(login?.code, 'CANCELLED');
  });

  it('uses one connection and closes it', async () => {
    const before = world.imap.stats().connections;
    await probeImap(opts());
    await waitFor('the IMAP connection to close', () => (world.imap.stats().concurrent === 0 ? true : undefined));
    assert.equal(world.imap.stats().connections - before, 1);
  });
});
