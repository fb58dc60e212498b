// The secrets module: AES-256-GCM round trip, tamper detection, key ids and rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSealer, keyIdOf, SecretError } from '../../src/security/secrets.ts';

const key = randomBytes(32);

test('round trip returns the plaintext, and the output carries version and key id', () => {
  const s = createSealer(key);
  const sealed = s.seal('GOCSPX-client-secret', 'ctx');
  assert.match(sealed, new RegExp(`^v1\\.${keyIdOf(key)}\\.`));
  assert.ok(!sealed.includes('GOCSPX'));
  assert.equal(s.open(sealed, 'ctx'), 'GOCSPX-client-secret');
  assert.equal(s.open(s.seal('ünïcødé ✓')), 'ünïcødé ✓');
});

test('two encryptions of one value differ (fresh IV per write)', () => {
  const s = createSealer(key);
  const a = s.seal('same');
  const b = s.seal('same');
  assert.notEqual(a, b);
  assert.notEqual(a.split('.')[2], b.split('.')[2]);
});

test('tampering with any part is detected', () => {
  const s = createSealer(key);
  const sealed = s.seal('refresh-token');
  const parts = sealed.split('.');
  for (const i of [2, 3, 4]) {
    const p = [...parts];
    const buf = Buffer.from(p[i], 'base64url');
    buf[0] ^= 1;
    p[i] = buf.toString('base64url');
    assert.throws(() => s.open(p.join('.')), SecretError);
  }
  assert.throws(() => s.open('plain text'), /unknown format/);
});

test('a value sealed for one context does not open in another', () => {
  const s = createSealer(key);
  assert.throws(() => s.open(s.seal('x', 'mailbox:1'), 'mailbox:2'), SecretError);
});

test('wrong key fails; an old key listed for rotation still opens old values', () => {
  const other = randomBytes(32);
  const sealedWithOther = createSealer(other).seal('v');
  assert.throws(() => createSealer(key).open(sealedWithOther), /not configured/);
  // same key id but different key material cannot happen by construction; a forged id with the wrong key fails auth:
  const forged = sealedWithOther.replace(keyIdOf(other), keyIdOf(key));
  assert.throws(() => createSealer(key).open(forged), /failed authentication/);
  assert.equal(createSealer(key, [other]).open(sealedWithOther), 'v');
});

test('a key that is not 32 bytes is refused', () => {
  assert.throws(() => createSealer(randomBytes(16)), SecretError);
});
