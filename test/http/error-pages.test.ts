// Error pages for requests that fail before the app knows who is asking (malformed, oversized or mis-encoded bodies,
// asterisk-form targets, too many fields): the right status, the app's own page or JSON, never a stack or a path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { leakIn } from '../helpers/leaks.ts';
import { rawRequest } from '../helpers/raw-http.ts';

function assertClean(body: string, what: string): void {
  const leak = leakIn(body);
  assert.equal(leak, undefined, `${what} leaks ${leak}`);
}

describeEachDb('error pages', (ctx) => {
  test('malformed, oversized and mis-encoded bodies: 400, 413, 415 with the error page, no stack', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const anonymous = ctx().client();
    const cases: [string, Record<string, string>, string, number][] = [
      ['JSON syntax error', { 'content-type': 'application/json' }, '{"a":', 400],
      ['JSON over the limit', { 'content-type': 'application/json' }, `{"a":"${'x'.repeat(70_000)}"}`, 413],
      ['form over the limit', { 'content-type': 'application/x-www-form-urlencoded' }, `a=${'x'.repeat(70_000)}`, 413],
      ['charset=utf-16', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }, 'a=b', 415],
      [
        'JSON in utf-16 (body-parser reads it, as garbage)',
        { 'content-type': 'application/json; charset=utf-16' },
        '{}',
        400,
      ],
      ['unknown content-encoding', { 'content-type': 'application/json', 'content-encoding': 'compress' }, '{}', 415],
    ];
    for (const c of [anonymous, client])
      for (const [what, headers, body, status] of cases)
        for (const path of ['/login', '/mailboxes', '/profiles/00000000-0000-0000-0000-000000000000']) {
          const res = await c.request('POST', path, { body, headers: { ...headers, accept: 'text/html' } });
          assert.equal(res.status, status, `${what} to ${path}`);
          assert.match(res.headers.get('content-type') ?? '', /text\/html/);
          assert.match(res.text, /<h1>[^<]+<\/h1>/, `${what}: the app's error page`);
          assertClean(res.text, `${what} to ${path}`);
        }
  });

  test('JSON clients get JSON errors: by Accept, or by sending JSON without asking for HTML', async () => {
    const c = ctx().client();
    const asked = await c.request('POST', '/login', {
      body: '{"a":',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    assert.equal(asked.status, 400);
    assert.match(asked.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(Object.keys(JSON.parse(asked.text)).sort(), ['error', 'message']);
    const curl = await c.request('POST', '/login', {
      body: '{"a":',
      headers: { 'content-type': 'application/json', accept: '*/*' },
    });
    assert.equal(curl.status, 400);
    assert.equal(JSON.parse(curl.text).error, 'Bad request');
    assertClean(curl.text, 'JSON error');
    const big = await c.request('POST', '/login', {
      body: `{"a":"${'x'.repeat(70_000)}"}`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.text).error, 'Too large');
  });

  test('asterisk-form request targets answer 400, not 500', async () => {
    for (const method of ['GET', 'POST', 'OPTIONS', 'HEAD']) {
      const res = await rawRequest(
        ctx().url,
        `${method} * HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 400, `${method} *: ${res.head}\n${res.body}`);
      assertClean(res.body, `${method} *`);
    }
    const absolute = await rawRequest(
      ctx().url,
      `GET ${ctx().url}/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(absolute.status, 200, `absolute-form still reaches the page: ${absolute.head}`);
  });

  test('more than 1,000 form fields: 413; exactly 1,000 still reach the page', async () => {
    const c = ctx().client();
    await c.get('/login');
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, '1']));
    // email, password and _csrf are three of the fields
    const over = await c.post('/login', { email: 'a@example.com', password: 'not it at all', ...fields(998) });
    assert.equal(over.status, 413);
    assert.match(over.text, /too many fields/);
    assertClean(over.text, '1,001 fields');
    await c.get('/login');
    const limit = await c.post('/login', { email: 'a@example.com', password: 'not it at all', ...fields(997) });
    assert.equal(limit.status, 401);
  });

  test('NUL characters (which PostgreSQL text cannot hold) are refused with 400, wherever they are', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/mailboxes/new');
    const form = await client.post('/mailboxes', { name: 'N', emailAddress: 'n@example.com', ownerId: 'a\0b' });
    assert.equal(form.status, 400, form.text.slice(0, 500));
    assert.match(form.text, /NUL character/);
    const json = await client.request('POST', '/mailboxes', {
      body: JSON.stringify({ _csrf: client.csrf, name: 'N', ownerId: { deep: ['\0'] } }),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    assert.equal(json.status, 400);
    for (const path of ['/mailboxes/%00', '/mailboxes?q=%00', '/profiles?sort=a%00'])
      assert.equal((await client.get(path)).status, 400, path);
  });

  test('unknown pages: 404 with the page, or JSON to a JSON client', async () => {
    const html = await ctx().client().get('/no/such/page');
    assert.equal(html.status, 404);
    assertClean(html.text, '404');
    const json = await ctx().client().get('/no/such/page', { accept: 'application/json' });
    assert.equal(json.status, 404);
    assert.equal(JSON.parse(json.text).error, 'Not found');
  });
});
