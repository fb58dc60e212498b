// API tokens for tests, made the way a person makes them: on the API tokens page, read from the page that answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestClient } from './client.ts';

const rand = () => randomBytes(4).toString('hex');

/** Creates a token on the API tokens page and reads it from the page that answers (the only time it is shown). */
export async function tokenFromPage(
  client: TestClient,
  o: { name?: string; scope?: 'READ_ONLY' | 'READ_WRITE'; expiresInDays?: string } = {},
): Promise<string> {
  await client.get('/account/tokens');
  const res = await client.post('/account/tokens', {
    name: o.name ?? `Script ${rand()}`,
    scope: o.scope ?? 'READ_WRITE',
    expiresInDays: o.expiresInDays ?? '30',
  });
  assert.equal(res.status, 201, res.text.slice(0, 500));
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const m = /data-testid="new-token">(mrt_[A-Za-z0-9_-]+)</.exec(res.text);
  assert.ok(m, 'the new token is shown');
  return m[1];
}
