// The session store's touch: a session's requests in flight together write its idle expiry once, not once each (the
// first touch used to take what get() read, so the others found nothing and wrote the row). Both engines.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PrismaSessionStore } from '../../src/auth/session-store.ts';
import { createTestDb, dbModes } from '../helpers/db.ts';

const USER = '0b6f5f2e-1c7a-4d2b-9a51-6a0f3c1e2d4a';
const IDLE = 3_600_000;

for (const mode of dbModes()) {
  describe(`session touch [${mode}]`, () => {
    test('concurrent requests of one session write the idle expiry once, and a later touch within the precision not at all', async () => {
      const t = await createTestDb(mode);
      try {
        let now = Date.UTC(2026, 11, 2, 8, 0, 0);
        const store = new PrismaSessionStore(t.db, { idleMs: IDLE, maxMs: 12 * IDLE, cacheMs: 0 }, () => now);
        const cookie = { originalMaxAge: IDLE, httpOnly: true, path: '/' };
        const sess = { cookie, passport: { user: USER } } as never;
        const cb = (ok: () => void, ko: (e: unknown) => void) => (e?: unknown) => (e ? ko(e) : ok());
        await new Promise<void>((ok, ko) => store.set('s1', sess, cb(ok, ko)));
        const get = () => new Promise<unknown>((ok, ko) => store.get('s1', (e, s) => (e ? ko(e) : ok(s))));
        const touch = () => new Promise<void>((ok, ko) => store.touch('s1', sess, cb(ok, ko)));
        const stored = async () => {
          const [row] = await t.db.raw.query<{ ms: number }>(
            `SELECT (extract(epoch FROM "expiresAt") * 1000)::float8 AS ms FROM "Session" WHERE sid = 's1'`,
          );
          return row.ms;
        };

        now += 10_000; // past the precision: the first touch writes
        const first = now + IDLE;
        await get(); // two requests of the session read it, then end one after the other
        await get();
        const touches = [touch()];
        now += 1;
        touches.push(touch());
        await Promise.all(touches);
        assert.equal(await stored(), first, "the second request found the first one's write and did not write");

        now += 1;
        await touch(); // a third request ending after both writes: the row is 2 ms behind, within the precision
        assert.equal(await stored(), first, 'within the precision of the written expiry: no write');

        now += 10_000;
        await get();
        await touch();
        assert.equal(await stored(), now + IDLE, 'past the precision again: written');
      } finally {
        await t.drop();
      }
    });
  });
}
