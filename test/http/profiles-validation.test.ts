// Profile form validation over HTTP: each rule answers 422 on the same form with its field error and the input
// kept (the Client Secret excepted); the Client Id warning shows but does not block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';

const SECRET = 'GOCSPX-validation-secret-77';

/** [field, submitted value, expected error]: one rule each. */
const RULES: [string, string, RegExp][] = [
  ['name', '', /Enter a name/],
  ['name', 'n'.repeat(101), /Use at most 100 characters/],
  ['description', 'd'.repeat(2001), /Use at most 2000 characters/],
  ['serverType', 'SMTP', /Choose a server type/],
  ['incomingServer', '', /Enter a server name/],
  ['incomingServer', 'imaps://imap.gmail.com', /without imap:\/\/, https:\/\/ or another scheme/],
  ['incomingServer', 'imap.gmail.com/inbox', /without a path/],
  ['incomingServer', 'imap gmail.com', /cannot contain spaces/],
  ['incomingServer', 'imap.gmail.com:993', /Enter the port in its own field/],
  ['incomingServer', '300.1.1.1', /Enter a valid IPv4 address/],
  ['incomingServer', '[not:ipv6]', /Enter a valid IPv6 address/],
  ['incomingServer', 'bad_host.example.com', /Enter a valid server name/],
  ['outgoingServer', 'https://smtp.gmail.com/', /another scheme/],
  ['incomingPort', '0', /Enter a whole number from 1 to 65535/],
  ['incomingPort', '65536', /Enter a whole number from 1 to 65535/],
  ['incomingPort', 'abc', /Enter a whole number from 1 to 65535/],
  ['outgoingPort', '58.7', /Enter a whole number from 1 to 65535/],
  ['outgoingPort', '', /Enter a whole number from 1 to 65535/],
  ['outgoingSecurity', 'TLS1', /Choose SSL\/TLS or STARTTLS/],
  ['authenticateUsing', 'PASSWORD', /Choose how mailboxes authenticate/],
  ['maxConcurrentConnections', '0', /Enter a whole number from 1 to 300/],
  ['maxConcurrentConnections', '301', /Enter a whole number from 1 to 300/],
  ['minPollingIntervalMinutes', '-1', /Enter a whole number from 0 to 1440/],
  ['minPollingIntervalMinutes', '1441', /Enter a whole number from 0 to 1440/],
  ['processEmailFrom', '2023-02-29', /Enter a date as YYYY-MM-DD/],
  ['processEmailFrom', 'yesterday', /Enter a date as YYYY-MM-DD/],
  ['oauthClientId', '', /Enter the Client Id of your Google OAuth client/],
  ['oauthClientSecret', '', /Enter the Client Secret of your Google OAuth client/],
  ['isDefaultGmail', 'on', /Only a Gmail OAuth profile can be the default/],
];

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;');

describeEachDb('email server profile validation', (ctx) => {
  test('each rule re-renders the form (422) with its field error, keeps the input, never the secret', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    for (const [field, value, message] of RULES) {
      const extra: Record<string, string> =
        field === 'isDefaultGmail' ? { authenticateUsing: 'CREDENTIALS_PER_MAILBOX' } : {};
      const res = await client.post(
        '/profiles',
        sampleProfileForm({
          name: 'Valid name',
          description: 'kept description',
          ...extra,
          oauthClientSecret: field === 'oauthClientSecret' ? '' : SECRET,
          [field]: value,
        }),
      );
      assert.equal(res.status, 422, `${field}=${value}`);
      assert.match(res.text, new RegExp(`id="f-${field}-error">[^<]*${message.source}`), `${field}=${value}`);
      assert.ok(res.text.includes(field === 'description' ? value : 'kept description'), 'description kept');
      if (field !== 'name') assert.match(res.text, /value="Valid name"/);
      if (field.endsWith('Server') || field.endsWith('Port'))
        assert.ok(res.text.includes(`value="${escapeHtml(value)}"`), `${field} input kept`);
      assert.ok(!res.text.includes(SECRET), `${field}: the secret was rendered back`);
    }
    assert.equal(await ctx().db.prisma.emailServerProfile.count(), 0);
  });

  test('accepted host names: DNS names, IPv4, bracketed and bare IPv6, localhost', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    for (const host of [
      'mail-1.example.co.uk',
      '192.0.2.10',
      '[2001:db8::1]',
      '::1',
      'localhost',
      'IMAP.Example.COM',
    ]) {
      const res = await client.post(
        '/profiles',
        sampleProfileForm({ name: `Host ${host}`, incomingServer: host, outgoingServer: host }),
      );
      assert.equal(res.status, 303, `${host}: ${/class="error"[^>]*>([^<]*)/.exec(res.text)?.[1]}`);
    }
    const p = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { name: 'Host [2001:db8::1]' } });
    assert.equal(p.incomingServer, '[2001:db8::1]');
  });

  test('bounds are inclusive: ports 1 and 65535, connections 1–300, polling 0–1440', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    const low = await client.post(
      '/profiles',
      sampleProfileForm({
        name: 'Bounds low',
        incomingPort: '1',
        outgoingPort: '1',
        maxConcurrentConnections: '1',
        minPollingIntervalMinutes: '0',
      }),
    );
    const high = await client.post(
      '/profiles',
      sampleProfileForm({
        name: 'Bounds high',
        incomingPort: '65535',
        outgoingPort: '65535',
        maxConcurrentConnections: '300',
        minPollingIntervalMinutes: '1440',
      }),
    );
    assert.equal(low.status, 303);
    assert.equal(high.status, 303);
  });

  test('a Client Id not ending in .apps.googleusercontent.com is a warning, not an error', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    const withError = await client.post('/profiles', sampleProfileForm({ name: '', oauthClientId: '123456789012' }));
    assert.equal(withError.status, 422);
    assert.match(
      withError.text,
      /id="f-oauthClientId-warning"><strong>Warning:<\/strong> Google Client Ids end in \.apps\.googleusercontent\.com/,
    );
    assert.doesNotMatch(withError.text, /id="f-oauthClientId-error"/);
    const saved = await client.post(
      '/profiles',
      sampleProfileForm({ name: 'Odd client id', oauthClientId: '123456789012' }),
    );
    assert.equal(saved.status, 303);
    const view = await client.get(saved.location!);
    assert.match(view.text, /flash-warning[^>]*>Google Client Ids end in/);
    assert.match(view.text, /<strong>Warning:<\/strong> Google Client Ids end in/);
    const fine = await client.get('/profiles/new');
    assert.doesNotMatch(
      (await client.post('/profiles', sampleProfileForm({ name: 'Good client id' }))).text + fine.text,
      /Google Client Ids end in/,
    );
  });

  test('a duplicate name is a field error, not a 500, on create and on edit', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    assert.equal((await client.post('/profiles', sampleProfileForm({ name: 'Twin' }))).status, 303);
    const other = await client.post('/profiles', sampleProfileForm({ name: 'Other twin' }));
    const dup = await client.post('/profiles', sampleProfileForm({ name: 'Twin', oauthClientSecret: SECRET }));
    assert.equal(dup.status, 422);
    assert.match(dup.text, /id="f-name-error">An email server profile with this name already exists/);
    assert.ok(!dup.text.includes(SECRET));
    await client.get(`${other.location}/edit`);
    const dupEdit = await client.post(other.location!, sampleProfileForm({ name: 'Twin', oauthClientSecret: SECRET }));
    assert.equal(dupEdit.status, 422);
    assert.match(dupEdit.text, /already exists/);
    assert.ok(!dupEdit.text.includes(SECRET));
    assert.equal(await ctx().db.prisma.emailServerProfile.count({ where: { name: 'Twin' } }), 1);
  });

  test('on edit the secret is required only when none is stored or it is being cleared', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    const creds = await client.post(
      '/profiles',
      sampleProfileForm({
        name: 'Was creds',
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        oauthClientId: '',
        oauthClientSecret: '',
      }),
    );
    assert.equal(creds.status, 303);
    await client.get(`${creds.location}/edit`);
    const toGmail = await client.post(creds.location!, sampleProfileForm({ name: 'Was creds', oauthClientSecret: '' }));
    assert.equal(toGmail.status, 422);
    assert.match(toGmail.text, /id="f-oauthClientSecret-error">Enter the Client Secret/);
    assert.equal(
      (await client.post(creds.location!, sampleProfileForm({ name: 'Was creds', oauthClientSecret: SECRET }))).status,
      303,
    );
    await client.get(`${creds.location}/edit`);
    assert.equal(
      (await client.post(creds.location!, sampleProfileForm({ name: 'Was creds', oauthClientSecret: '' }))).status,
      303,
    );
  });

  test('no request failed on the server (no error logs)', () => {
    assert.deepEqual(
      ctx().logs.filter((l) => l.includes('"level":50')),
      [],
    );
  });
});
