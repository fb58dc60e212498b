// The logger: JSON lines by default, readable lines when pretty (a terminal), one redaction list for both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.ts';

const SECRETS = {
  password: 'hunter2-password',
  authorization: 'Bearer ya29.header-token',
  cookie: 'mailroom.sid=s%3Acookie-value',
  accessToken: 'ya29.access-token-value',
  clientSecret: 'GOCSPX-client-secret-value',
};

function capture(): { sink: Writable; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { sink, text: () => chunks.join('') };
}

function logSecrets(logger: Logger): void {
  logger.info(
    {
      password: SECRETS.password,
      req: { headers: { authorization: SECRETS.authorization, cookie: SECRETS.cookie } },
      grant: { accessToken: SECRETS.accessToken },
      profile: { clientSecret: SECRETS.clientSecret },
      mailboxId: 'mb-1',
    },
    'Gmail access token refreshed',
  );
}

const assertNoSecret = (text: string) => {
  for (const [name, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `${name} leaked: ${text}`);
};

describe('logger', () => {
  it('writes one JSON object a line, secrets redacted', () => {
    const { sink, text } = capture();
    logSecrets(createLogger('info', sink));
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line.msg, 'Gmail access token refreshed');
    assert.equal(line.mailboxId, 'mb-1');
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.req, { headers: { authorization: '[redacted]', cookie: '[redacted]' } });
    assert.deepEqual(line.grant, { accessToken: '[redacted]' });
    assertNoSecret(text());
  });

  it('pretty: one readable line per event, the same fields redacted', () => {
    const { sink, text } = capture();
    const logger = createLogger('info', sink, { pretty: true });
    logSecrets(logger);
    logger.warn('second event');
    const lines = text().trimEnd().split('\n');
    assert.equal(lines.length, 2, text());
    assert.match(lines[0], /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Gmail access token refreshed /);
    assert.match(lines[1], /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: second event$/);
    assert.throws(() => JSON.parse(lines[0]));
    assert.match(lines[0], /"mb-1"/);
    assert.equal(lines[0].match(/\[redacted\]/g)?.length, 5);
    assertNoSecret(text());
  });
});
