// Server host name rules for profile fields (pure): what is accepted and why the rest is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostError } from '../../src/profiles/host.ts';

test('accepts DNS names, IPv4, bracketed and bare IPv6, localhost', () => {
  for (const h of [
    'imap.gmail.com',
    'smtp.gmail.com',
    'localhost',
    'mail-1.example.co.uk',
    'a.b',
    'MAIL.EXAMPLE.COM',
    'example.com.',
    '192.0.2.1',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '2001:db8::1',
    '[2001:db8::1]',
    '[::1]',
    'xn--bcher-kva.example',
    `${'a'.repeat(63)}.com`,
    '  imap.gmail.com  ',
    'imap.gmail.com\t',
  ]) {
    assert.equal(hostError(h), null, h);
  }
});

test('refuses schemes, paths, spaces, ports, bad addresses and bad labels, saying why', () => {
  const cases: [string, RegExp][] = [
    ['', /Enter a server name/],
    ['   ', /Enter a server name/],
    ['imap://imap.gmail.com', /scheme/],
    ['https://smtp.gmail.com', /scheme/],
    ['imap.gmail.com/INBOX', /path/],
    ['user@imap.gmail.com', /user name/],
    ['imap.gmail.com?x=1', /query/],
    ['imap gmail.com', /spaces/],
    ['imap.gmail.com:993', /port in its own field/],
    ['256.1.1.1', /IPv4/],
    ['1.2.3', /IPv4/],
    ['[2001:db8::1', /IPv6/],
    ['[imap.gmail.com]', /IPv6/],
    ['2001:db8:::1:2', /valid server name or IP/],
    ['-bad.example.com', /valid server name/],
    ['bad-.example.com', /valid server name/],
    ['bad..example.com', /valid server name/],
    ['under_score.example.com', /valid server name/],
    [`${'a'.repeat(64)}.com`, /valid server name/],
    ['example.123', /valid server name or IP/],
    [`${'a.'.repeat(127)}com`, /253/],
  ];
  for (const [h, why] of cases) assert.match(hostError(h) ?? 'accepted', why, JSON.stringify(h));
});
