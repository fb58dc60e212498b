// Unit tests of the Gmail answer / Node error mapping, hints, truncation and redaction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyOAuthChallenge,
  classifyServerText,
  classifyTokenError,
  mapError,
  redact,
  truncate,
} from '../../src/mail/errors.ts';
import { FAILURE_CODES, failure } from '../../src/mail/hints.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('classifyServerText', () => {
  const cases: [string, string][] = [
    ['A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)', 'AUTH_FAILED'],
    [
      '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials',
      'AUTH_FAILED',
    ],
    ['-ERR [AUTH] Invalid credentials.', 'AUTH_FAILED'],
    ['-ERR [AUTH] Username and password not accepted.', 'AUTH_FAILED'],
    ['534-5.7.9 Application-specific password required.', 'AUTH_FAILED'],
    [
      'A1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
      'IMAP_DISABLED',
    ],
    [
      '-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.',
      'POP_DISABLED',
    ],
    ['A1 NO [ALERT] Too many simultaneous connections. (Failure)', 'TOO_MANY_CONNECTIONS'],
    ['-ERR [SYS/TEMP] Too many simultaneous connections.', 'TOO_MANY_CONNECTIONS'],
    ['A1 NO [LIMIT] Bandwidth or connection limit reached', 'TOO_MANY_CONNECTIONS'],
    ['A1 NO [UNAVAILABLE] Temporary authentication failure. (Failure)', 'SERVER_TEMPORARY'],
    ['-ERR [SYS/TEMP] Temporary system problem. Please try again later.', 'SERVER_TEMPORARY'],
    ['A1 NO [IN-USE] Mailbox in use, try again later', 'SERVER_TEMPORARY'],
    [
      'A1 NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions about this feature. (Failure)',
      'ADMIN_POLICY',
    ],
  ];
  for (const [text, code] of cases)
    it(`${code} ← ${text.slice(0, 50)}`, () => assert.equal(classifyServerText(text), code));
  it('knows nothing about unrelated text', () => assert.equal(classifyServerText('OK Success'), undefined));
});

describe('classifyOAuthChallenge / classifyTokenError', () => {
  it('reads Gmail XOAUTH2 challenges (base64 or parsed)', () => {
    assert.equal(
      classifyOAuthChallenge(b64('{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}')),
      'AUTH_FAILED',
    );
    assert.equal(classifyOAuthChallenge({ status: '401', schemes: 'bearer' }), 'AUTH_FAILED');
    assert.equal(classifyOAuthChallenge({ status: 'insufficient_scope' }), 'MISSING_SCOPE');
    assert.equal(classifyOAuthChallenge('not base64 json'), undefined);
  });
  it('maps token endpoint errors', () => {
    assert.equal(classifyTokenError('invalid_grant'), 'TOKEN_REVOKED');
    assert.equal(classifyTokenError('invalid_scope'), 'MISSING_SCOPE');
    assert.equal(classifyTokenError('invalid_client'), 'OAUTH_CLIENT');
    assert.equal(classifyTokenError('server_error'), 'UNKNOWN');
  });
});

describe('mapError', () => {
  const nodeErr = (code: string, extra: object = {}) => Object.assign(new Error(`boom ${code}`), { code }, extra);
  const cases: [unknown, string, boolean][] = [
    [nodeErr('ECONNREFUSED'), 'CONNECTION_REFUSED', true],
    [nodeErr('ECONNRESET'), 'CONNECTION_RESET', true],
    [nodeErr('EPIPE'), 'CONNECTION_RESET', true],
    [nodeErr('ENOTFOUND'), 'DNS', false],
    [nodeErr('EAI_AGAIN'), 'DNS', false],
    [nodeErr('ETIMEDOUT'), 'TIMEOUT', true],
    [nodeErr('GREETING_TIMEOUT'), 'TIMEOUT', true],
    [nodeErr('DEPTH_ZERO_SELF_SIGNED_CERT'), 'TLS_CERT', false],
    [nodeErr('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'TLS_CERT', false],
    [nodeErr('ERR_TLS_CERT_ALTNAME_INVALID'), 'TLS_CERT', false],
    [nodeErr('ERR_SSL_WRONG_VERSION_NUMBER'), 'TLS_HANDSHAKE', false],
    // nodemailer wraps socket errors: code ESOCKET, the system code kept in originalCode
    [nodeErr('ESOCKET', { originalCode: 'ECONNREFUSED' }), 'CONNECTION_REFUSED', true],
    [new Error('wrapped', { cause: nodeErr('ECONNRESET') }), 'CONNECTION_RESET', true],
    [{ name: 'AbortError', message: 'aborted' }, 'CANCELLED', true],
    [new Error('something odd'), 'UNKNOWN', false],
    ['a string', 'UNKNOWN', false],
  ];
  for (const [err, code, transient] of cases) {
    it(`${code} ← ${err instanceof Error ? err.message : JSON.stringify(err)}`, () => {
      const f = mapError(err);
      assert.equal(f.code, code);
      assert.equal(f.transient, transient);
      assert.ok(f.hint.length > 20);
    });
  }

  it('treats SMTP 421/454 as SMTP_TEMPORARY (transient) and 535 as AUTH_FAILED', () => {
    const smtp = (response: string) =>
      Object.assign(new Error('Invalid login'), {
        code: 'EAUTH',
        response,
        responseCode: Number(response.slice(0, 3)),
      });
    assert.deepEqual(
      [mapError(smtp('454 4.7.0 Too many login attempts, please try again later.'), { protocol: 'smtp' })].map((f) => [
        f.code,
        f.transient,
      ]),
      [['SMTP_TEMPORARY', true]],
    );
    assert.equal(
      mapError(smtp('421 4.7.0 Try again later, closing connection.'), { protocol: 'smtp' }).code,
      'SMTP_TEMPORARY',
    );
    assert.equal(
      mapError(smtp('535-5.7.8 Username and Password not accepted.'), { protocol: 'smtp' }).code,
      'AUTH_FAILED',
    );
  });

  it("treats Gmail's temporary IMAP/POP3 refusals as transient, though imapflow flags them as failed authentication", () => {
    const imap = Object.assign(new Error('Command failed'), {
      response: 'A3 NO [UNAVAILABLE] Temporary authentication failure. (Failure)',
      authenticationFailed: true,
    });
    assert.deepEqual(
      [mapError(imap, { protocol: 'imap', auth: 'xoauth2' })].map((f) => [f.code, f.transient]),
      [['SERVER_TEMPORARY', true]],
    );
    const pop = new Error('-ERR [SYS/TEMP] Temporary system problem. Please try again later.');
    assert.deepEqual(
      [mapError(pop, { protocol: 'pop3' })].map((f) => [f.code, f.transient]),
      [['SERVER_TEMPORARY', true]],
    );
    const inUse = Object.assign(new Error('Command failed'), { response: 'A4 NO [IN-USE] Temporarily unavailable' });
    assert.equal(mapError(inUse, { protocol: 'imap' }).transient, true);
  });

  it('prefers an insufficient_scope challenge over the generic NO', () => {
    const err = Object.assign(new Error('Command failed'), {
      response: '3 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)',
      oauthError: { status: 'insufficient_scope' },
    });
    assert.equal(mapError(err).code, 'MISSING_SCOPE');
  });

  it('strips the IMAP tag and words the hint for password logins', () => {
    const err = Object.assign(new Error('Command failed'), {
      response: '7 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)',
    });
    const f = mapError(err, { auth: 'password' });
    assert.equal(f.message, 'NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)');
    assert.match(f.hint, /app password/);
  });

  it('redacts secrets and caps the message', () => {
    const secret = 'ya29.SECRET-token_value';
    const err = new Error(`${'x'.repeat(600)} Bearer ${secret}`);
    const f = mapError(new Error(`failed for token ${secret}`), { secrets: [secret] });
    assert.ok(!f.message.includes('SECRET'));
    assert.equal(mapError(err).message.length, 512);
  });
});

describe('hints', () => {
  it('has a hint for every code, and retries exactly the transient ones', () => {
    const transient = FAILURE_CODES.filter((c) => failure(c).transient).sort();
    assert.deepEqual(transient, [
      'CANCELLED',
      'CONNECTION_REFUSED',
      'CONNECTION_RESET',
      'SERVER_TEMPORARY',
      'SMTP_TEMPORARY',
      'TIMEOUT',
      'TOO_MANY_CONNECTIONS',
    ]);
    for (const code of FAILURE_CODES) assert.ok(failure(code).hint.length > 20, code);
  });
  it('tells the user what to do', () => {
    assert.match(failure('TOKEN_REVOKED').hint, /Sign in to Gmail again.*7 days.*Production/);
    assert.match(failure('IMAP_DISABLED').hint, /Forwarding and POP\/IMAP.*Enable IMAP.*Test & Enable Mailbox/);
  });
});

describe('truncate', () => {
  it('keeps short text and caps long text at 512 with an ellipsis', () => {
    assert.equal(truncate('short'), 'short');
    const long = truncate('a'.repeat(1000));
    assert.equal(long.length, 512);
    assert.ok(long.endsWith('…'));
    assert.equal(truncate('abcdef', 4), 'abc…');
  });
  it('normalises line breaks and drops control characters', () => {
    assert.equal(truncate('a\r\nb\x07c\x00'), 'a\nb c');
  });
});

describe('redact', () => {
  it('removes Google tokens and bearer values', () => {
    const out = redact('token ya29.a0AfH6SMB-xyz_123 refresh 1//0gAbCdEfGhIjKlMn and Authorization: Bearer abc.def');
    assert.ok(!/a0AfH6SMB|0gAbCdEf|abc\.def/.test(out), out);
  });
  it('removes SASL payloads (XOAUTH2, OAUTHBEARER, PLAIN) but keeps Gmail challenges', () => {
    const xoauth = b64('user=a@b.c\x01auth=Bearer tok123456\x01\x01');
    const bearer = b64('n,a=a@b.c,\x01auth=Bearer tok123456\x01\x01');
    const plain = b64('\x00a@b.c\x00hunter2hunter2');
    const challenge = b64('{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}');
    const out = redact(`C: AUTH XOAUTH2 ${xoauth} / ${bearer} / ${plain} S: + ${challenge}`);
    assert.ok(!out.includes(xoauth) && !out.includes(bearer) && !out.includes(plain), out);
    assert.ok(out.includes(challenge));
  });
  it('removes given secrets verbatim and base64-encoded, and key=value credentials', () => {
    const out = redact(`pw s3cret-pass ${b64('s3cret-pass')} {"access_token":"abc123","password":"pw"}`, [
      's3cret-pass',
    ]);
    assert.ok(!out.includes('s3cret-pass') && !out.includes(b64('s3cret-pass')) && !out.includes('abc123'), out);
  });
  it('leaves ordinary server text alone', () => {
    const text = 'NO [ALERT] Your account is not enabled for IMAP use. (Failure)';
    assert.equal(redact(text), text);
  });
});
