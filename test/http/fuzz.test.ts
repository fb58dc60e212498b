// A bounded, seeded fuzz run in every `npm test`: a few thousand requests over every route of the app's own route
// table, as an anonymous visitor, a user and an administrator, with odd parameters, query strings, form and JSON bodies
// (arrays, NULs, broken escapes, wrong types and encodings), other methods, and raw requests fetch() will not send
// (asterisk-form, NULs in the request line, broken headers). Fails on any 5xx, any request left unanswered, and any
// stack trace or file path in a body. FUZZ_SEED replays a run; FUZZ_REQUESTS changes its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestContext } from '../helpers/context.ts';
import { dbModes } from '../helpers/db.ts';
import type { TestClient } from '../helpers/client.ts';
import { leakIn } from '../helpers/leaks.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { routeTable, type RouteEntry } from '../helpers/routes.ts';
import { createSyncProfile } from '../helpers/sync-fixtures.ts';
import { encodeForm, jsonValue, NASTY, oddKey, pct, RAW_ESCAPES, rng, value, type Rng } from '../helpers/fuzz.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 14);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CLOSED = 'http://127.0.0.1:9'; // nothing listens: Google's endpoints fail at once instead of leaving the machine

interface Who {
  name: 'anonymous' | 'user' | 'admin';
  client: TestClient;
  login?: () => Promise<void>;
}

test(`fuzz: ${REQUESTS} requests over every route (seed ${SEED}) answer without a 5xx or a stack`, {
  timeout: 300_000,
}, async () => {
  const ctx = await createTestContext(dbModes()[0], {
    jobs: true,
    env: {
      GOOGLE_AUTHORIZATION_URL: `${CLOSED}/auth`,
      GOOGLE_TOKEN_URL: `${CLOSED}/token`,
      GOOGLE_USERINFO_URL: `${CLOSED}/userinfo`,
      GOOGLE_REVOKE_URL: `${CLOSED}/revoke`,
      CHECK_RETRY_LIMIT: '0',
    },
    app: { checks: { connectTimeoutMs: 2_000, totalTimeoutMs: 4_000 } },
  });
  try {
    const r = rng(SEED);
    // The world: a profile whose servers refuse at once, mailboxes of the user and of someone else, a third user.
    const { profile, owner } = await createSyncProfile(ctx.db.prisma);
    await ctx.db.prisma.emailServerProfile.update({
      where: { id: profile.id },
      data: { incomingServer: '127.0.0.1', incomingPort: 9, outgoingServer: '127.0.0.1', outgoingPort: 9 },
    });
    const admin = await ctx.user({ role: 'ADMIN' });
    const user = await ctx.user();
    const victim = await ctx.user();
    const mailbox = (name: string, ownerId: string) =>
      ctx.db.prisma.mailbox.create({
        data: { name, emailAddress: `${randomUUID()}@example.com`, ownerId, profileId: profile.id },
      });
    const mine = await mailbox('Fuzz mine', user.id);
    const theirs = await mailbox('Fuzz theirs', owner.id);
    const ids: Record<string, string[]> = {
      profiles: [profile.id],
      mailboxes: [mine.id, theirs.id],
      users: [victim.id],
    };

    const signedIn = async (name: 'user' | 'admin', u: { email: string; password: string }): Promise<Who> => {
      const who: Who = { name, client: ctx.client() };
      who.login = async () => {
        who.client = ctx.client();
        await who.client.login(u.email, u.password);
      };
      await who.login();
      return who;
    };
    const anonymous: Who = { name: 'anonymous', client: ctx.client() };
    await anonymous.client.get('/login');
    const people = [anonymous, await signedIn('user', user), await signedIn('admin', admin)];

    const routes = routeTable(ctx.app);
    const fill = (path: string, rr: Rng) =>
      path.replace(/([^/]+)\/:(\w+)/g, (_m, collection: string) => {
        const pool = ids[collection] ?? [];
        const choice = rr.int(10);
        const id = choice < 6 && pool.length ? rr.pick(pool) : choice < 8 ? randomUUID() : pct(rr.pick(NASTY));
        return `${collection}/${id || 'x'}`;
      });

    // What the pages ask for: field names, option values and query keys, read from the forms and links they render.
    const fields = new Set(['_csrf', 'email', 'password', 'name', 'ids', 'id', 'action', 'token', 'state', 'code']);
    const plausible = new Set<string>([admin.email, user.email, profile.id, mine.id, victim.id]);
    const queryKeys = new Set(['q', 'sort', 'dir', 'page', 'token', 'state', 'code', 'error', 'returnTo']);
    for (const route of routes.filter((x) => x.method === 'GET')) {
      const page = await people[2].client.get(route.path.replace(/([^/]+)\/:(\w+)/g, (_m, c) => `${c}/${ids[c]?.[0]}`));
      for (const m of page.text.matchAll(/name="([^"]+)"/g)) fields.add(m[1]);
      for (const m of page.text.matchAll(/<option value="([^"]*)"/g)) plausible.add(m[1]);
      for (const m of page.text.matchAll(/href="[^"?]*\?([^"]+)"/g))
        for (const [k] of new URLSearchParams(m[1].replace(/&amp;/g, '&'))) queryKeys.add(k);
    }
    const fieldNames = [...fields];
    const values = [...plausible];

    const query = (rr: Rng) =>
      Array.from({ length: 1 + rr.int(4) }, () => {
        const k = rr.chance(0.8) ? rr.pick([...queryKeys]) : rr.pick(NASTY);
        const v = rr.chance(0.2) ? rr.pick(RAW_ESCAPES) : pct(value(rr, values));
        return `${rr.chance(0.2) ? pct(oddKey(rr, k)) : pct(k)}=${v}`;
      }).join('&');

    /** A body and its headers: forms (arrays, odd keys, raw escapes), JSON of any shape, wrong types and encodings. */
    const body = (rr: Rng, csrf: string | undefined): { body?: string; headers: Record<string, string> } => {
      const withToken = rr.chance(0.85) && csrf ? csrf : undefined;
      const kind = rr.int(20);
      if (kind < 11) {
        const form: [string, string][] = Array.from({ length: rr.int(8) }, () => {
          const k = rr.pick(fieldNames);
          return [rr.chance(0.15) ? oddKey(rr, k) : k, value(rr, values)] as [string, string];
        });
        for (let i = rr.int(3); i > 0; i--) form.push(['ids', rr.pick([...ids.mailboxes, randomUUID(), 'x'])]);
        if (withToken) form.push(['_csrf', withToken]);
        let text = encodeForm(form);
        if (rr.chance(0.1)) text += `&${rr.pick(fieldNames)}=${rr.pick(RAW_ESCAPES)}`;
        const type = rr.chance(0.9)
          ? 'application/x-www-form-urlencoded'
          : rr.pick([
              'application/x-www-form-urlencoded; charset=utf-16',
              'application/x-www-form-urlencoded; charset=latin1',
              'application/x-www-form-urlencoded; charset=nope',
            ]);
        return { body: text, headers: { 'content-type': type } };
      }
      if (kind < 16) {
        const obj = Object.fromEntries(
          Array.from({ length: rr.int(6) }, () => [rr.pick(fieldNames), jsonValue(rr)] as [string, unknown]),
        );
        if (withToken) obj._csrf = withToken;
        const json = rr.chance(0.2) ? JSON.stringify(jsonValue(rr)) : JSON.stringify(obj);
        return {
          body: rr.chance(0.15) ? json.slice(0, rr.int(json.length)) : json,
          headers: { 'content-type': rr.chance(0.9) ? 'application/json' : 'application/json; charset=utf-16' },
        };
      }
      if (kind < 17)
        return { body: 'x'.repeat(70_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      if (kind < 18)
        return {
          body: `--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--`,
          headers: { 'content-type': 'multipart/form-data; boundary=b' },
        };
      if (kind < 19) return { body: rr.pick(NASTY), headers: { 'content-type': 'text/plain' } };
      return { headers: withToken ? { 'x-csrf-token': withToken } : {} };
    };

    /** Requests fetch() refuses to send, over a socket, with the sender's cookies. */
    const raw = (rr: Rng, who: Who, route: RouteEntry): string => {
      const cookie = [...who.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const path = fill(route.path, rr);
      const head = (line: string, extra = '', body = '') =>
        `${line}\r\nHost: 127.0.0.1\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}${extra}Connection: close\r\n\r\n${body}`;
      return rr.pick([
        () => head('GET * HTTP/1.1'),
        () => head('OPTIONS * HTTP/1.1'),
        () =>
          head(`POST * HTTP/1.1`, 'Content-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n', 'a=b'),
        () => head(`GET ${path}\0 HTTP/1.1`),
        () => head(`GET ${path}%00 HTTP/1.1`),
        () => head(`${rr.pick(['PROPFIND', 'SEARCH', 'MKCOL', 'FOO', 'get'])} ${path} HTTP/1.1`),
        () => head(`GET ${ctx.url}${path} HTTP/1.1`),
        () => head(`GET ${path} HTTP/1.0`).replace('Host: 127.0.0.1\r\n', ''),
        () => head(`GET ${path}?${rr.pick(RAW_ESCAPES)}=${rr.pick(RAW_ESCAPES)} HTTP/1.1`),
        () => head(`POST ${path} HTTP/1.1`, 'Content-Length: 5\r\nContent-Length: 7\r\n', 'a=b&c=d'),
        () =>
          head(
            `POST ${path} HTTP/1.1`,
            'Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n',
            'zz\r\n{}\r\n0\r\n\r\n',
          ),
        () =>
          head(
            `POST ${path} HTTP/1.1`,
            'Content-Length: 4\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n',
            'nope',
          ),
        () => head(`GET ${path} HTTP/1.1`, 'Cookie: mailroom.sid=s%3A\0garbage\r\n'),
        () => head(`GET ${path} HTTP/1.1`, 'Accept: application/json\r\nX-Forwarded-For: ::ffff:,,,\r\n'),
      ])();
    };

    const failures: string[] = [];
    const fail = (what: string) => {
      if (failures.length < 25) failures.push(what);
    };
    const lastError = () => {
      const line = ctx.logs.findLast((l) => l.includes('"msg":"request failed"'));
      return line ? ((JSON.parse(line) as { err?: { message?: string } }).err?.message ?? '') : '';
    };
    const check = (what: string, status: number, text: string, rawRequestSent: boolean) => {
      if (status >= 500 || (status === 0 && !rawRequestSent)) fail(`${what}: ${status} (${lastError()})`);
      const leak = leakIn(text);
      if (leak) fail(`${what}: ${leak}`);
    };

    const coverage = routes.length * people.length;
    for (let i = 0; i < REQUESTS; i++) {
      const who = i < coverage ? people[i % people.length] : r.pick(people);
      const route = i < coverage ? routes[Math.floor(i / people.length)] : r.pick(routes);
      if (i >= coverage && who.login && route.path === '/logout') continue; // keep the signed-in clients signed in
      if (r.chance(0.04)) {
        const request = raw(r, who, route);
        const res = await rawRequest(ctx.url, request).catch((e: Error) => ({ status: 0, head: '', body: e.message }));
        check(`#${i} ${who.name} raw ${JSON.stringify(request.split('\r\n')[0])}`, res.status, res.body, true);
        continue;
      }
      const method = r.chance(0.1)
        ? r.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'GET', 'POST'])
        : route.method;
      const path = fill(route.path, r) + (r.chance(0.35) ? `?${query(r)}` : '');
      const sent =
        method === 'GET' || method === 'HEAD' ? { headers: {} as Record<string, string> } : body(r, who.client.csrf);
      if (r.chance(0.2)) sent.headers.accept = r.pick(['application/json', '*/*', 'text/html', 'image/png', '']);
      const what = `#${i} ${who.name} ${method} ${path.slice(0, 200)}`;
      try {
        const res = await who.client.request(method, path, { body: sent.body, headers: sent.headers });
        check(what, res.status, res.text, false);
        if (who.login && res.status === 303 && res.location === '/login') await who.login(); // signed out (disabled, …)
      } catch (e) {
        fail(`${what}: no answer (${(e as Error).message})`);
      }
    }
    const renderFailures = ctx.logs.filter((l) => l.includes('error page failed to render'));
    assert.deepEqual(failures, [], `seed ${SEED}`);
    assert.deepEqual(renderFailures, [], 'the error page itself failed');
  } finally {
    await ctx.close();
  }
});
