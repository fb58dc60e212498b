// Profile form parsing (pure): secret handling on create and edit, cross-field rules, warnings, presets, changed fields, list query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfileForm, formValuesFromProfile, profileWarnings } from '../../src/profiles/form.ts';
import { changedFields } from '../../src/profiles/changes.ts';
import { presetValues, isPresetName } from '../../src/profiles/presets.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';
import { profileList } from '../../src/profiles/list.ts';
import { columns } from '../../src/web/list-view.ts';
import type { EmailServerProfile } from '../../src/generated/prisma/client.ts';

test('a valid form gives typed data; the secret is a change, never a form value', () => {
  const r = parseProfileForm(
    sampleProfileForm({
      oauthClientSecret: '  GOCSPX-x  ',
      processEmailFrom: '2025-01-31',
      moveFailedToUndeliverable: 'on',
    }),
    { hasStoredSecret: false },
  );
  assert.ok(r.ok);
  assert.equal(r.data.incomingPort, 993);
  assert.equal(r.data.processEmailFrom?.toISOString(), '2025-01-31T00:00:00.000Z');
  assert.equal(r.data.moveFailedToUndeliverable, true);
  assert.deepEqual(r.secret, { kind: 'set', value: 'GOCSPX-x' });
  assert.ok(!JSON.stringify(r.values).includes('GOCSPX') && !JSON.stringify(r.data).includes('GOCSPX'));
});

test('secret on edit: blank keeps, typed replaces, Clear clears (only where no secret is needed)', () => {
  const edit = (over: Record<string, string>) =>
    parseProfileForm(sampleProfileForm({ oauthClientSecret: '', ...over }), { hasStoredSecret: true });
  assert.deepEqual((edit({}) as { secret: unknown }).secret, { kind: 'keep' });
  assert.deepEqual((edit({ oauthClientSecret: 'new', clearClientSecret: 'on' }) as { secret: unknown }).secret, {
    kind: 'set',
    value: 'new',
  });
  const gmailClear = edit({ clearClientSecret: 'on' });
  assert.ok(!gmailClear.ok && gmailClear.errors.oauthClientSecret);
  const credsClear = edit({ clearClientSecret: 'on', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' });
  assert.ok(credsClear.ok);
  assert.deepEqual(credsClear.secret, { kind: 'clear' });
  const noStored = parseProfileForm(
    sampleProfileForm({ oauthClientSecret: '', clearClientSecret: 'on', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' }),
    { hasStoredSecret: false },
  );
  assert.ok(noStored.ok);
  assert.deepEqual(noStored.secret, { kind: 'keep' });
});

test('missing or non-string fields are field errors, not exceptions', () => {
  const r = parseProfileForm({ name: ['a', 'b'], incomingPort: ['1'] }, { hasStoredSecret: false });
  assert.ok(!r.ok);
  assert.ok(r.errors.name && r.errors.incomingServer && r.errors.incomingPort && r.errors.outgoingPort);
  assert.equal(r.values.name, '');
});

test('Client Id warning only for Gmail OAuth ids without the Google suffix', () => {
  assert.ok(profileWarnings({ authenticateUsing: 'GMAIL_OAUTH', oauthClientId: '1234' }).oauthClientId);
  assert.deepEqual(
    profileWarnings({ authenticateUsing: 'GMAIL_OAUTH', oauthClientId: '1-x.apps.googleusercontent.com' }),
    {},
  );
  assert.deepEqual(profileWarnings({ authenticateUsing: 'GMAIL_OAUTH', oauthClientId: '' }), {});
  assert.deepEqual(profileWarnings({ authenticateUsing: 'CREDENTIALS_PER_MAILBOX', oauthClientId: '1234' }), {});
});

test('presets: Gmail IMAP and POP3 with SMTP 587 STARTTLS, or 465 SSL/TLS', () => {
  assert.deepEqual(presetValues('gmail-imap'), {
    outgoingServer: 'smtp.gmail.com',
    outgoingPort: '587',
    outgoingSecurity: 'STARTTLS',
    authenticateUsing: 'GMAIL_OAUTH',
    incomingUseSsl: true,
    serverType: 'IMAP',
    incomingServer: 'imap.gmail.com',
    incomingPort: '993',
    // One IDLE connection for each of the profile's up to 100 mailboxes (decision 022).
    maxConcurrentConnections: '100',
  });
  assert.equal(presetValues('gmail-pop3').incomingServer, 'pop.gmail.com');
  assert.equal(presetValues('gmail-pop3').incomingPort, '995');
  assert.deepEqual(
    [presetValues('gmail-imap', 'ssl').outgoingPort, presetValues('gmail-imap', 'ssl').outgoingSecurity],
    ['465', 'SSL'],
  );
  assert.equal(isPresetName('toString'), false);
  assert.equal(isPresetName('gmail-pop3'), true);
});

test('changed fields: names of what differs, dates by value; a round trip through the form changes nothing', () => {
  const r = parseProfileForm(sampleProfileForm({ processEmailFrom: '2025-01-31' }), { hasStoredSecret: false });
  assert.ok(r.ok);
  const stored = {
    ...r.data,
    id: 'x',
    oauthClientSecret: 'v1.sealed',
    ownerId: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  } as EmailServerProfile;
  assert.deepEqual(changedFields(stored, r.data), []);
  const again = parseProfileForm(
    { ...formValuesFromProfile(stored), incomingUseSsl: 'on', oauthClientSecret: '' } as never,
    { hasStoredSecret: true },
  );
  assert.ok(again.ok);
  assert.deepEqual(changedFields(stored, again.data), []);
  assert.deepEqual(changedFields(stored, { ...r.data, incomingPort: 143, processEmailFrom: null }), [
    'incomingPort',
    'processEmailFrom',
  ]);
});

test('profile list query: safe defaults, counts and dates sort largest first, header links toggle direction', () => {
  assert.deepEqual(profileList.parse({}), { q: '', sort: 'name', dir: 'asc', page: 1 });
  assert.deepEqual(profileList.parse({ sort: 'mailboxes' }), { q: '', sort: 'mailboxes', dir: 'desc', page: 1 });
  assert.deepEqual(profileList.parse({ sort: '__proto__', dir: 'up', page: '-3', q: ['x'] }), {
    q: '',
    sort: 'name',
    dir: 'asc',
    page: 1,
  });
  const lq = profileList.parse({ q: 'a&b', sort: 'name', dir: 'asc', page: '2' });
  const [name, modified] = columns(profileList, lq, ['name', 'modifiedOn']);
  assert.equal(name.href, '?q=a%26b&sort=name&dir=desc');
  assert.equal(name.ariaSort, 'ascending');
  assert.equal(modified.href, '?q=a%26b&sort=modifiedOn&dir=desc');
  assert.equal(modified.ariaSort, undefined);
  assert.equal(profileList.href(lq, { page: 3 }), '?q=a%26b&page=3', 'the default sort is left out of links');
});
