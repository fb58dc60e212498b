// The session_user_id migration on a database that already has sessions: signed-in sessions get their userId from
// the session JSON and keep working; anonymous and expired ones stay without one. Both engines.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { PrismaSessionStore, endUserSessions } from '../../src/auth/session-store.ts';
import { createEmptyDb, dbModes } from '../helpers/db.ts';

const A = '0b6f5f2e-1c7a-4d2b-9a51-6a0f3c1e2d4a';
const B = '7d9e2c4b-3a1f-4e8d-b6c5-2f1a0e9d8c7b';

for (const mode of dbModes()) {
  describe(`session userId migration [${mode}]`, () => {
    test("fills userId from passport.user for live sessions; they still load, and ending A's ends exactly those", async () => {
      const t = await createEmptyDb(mode);
      try {
        const all = readMigrations();
        const at = all.findIndex((m) => m.name.endsWith('_session_user_id'));
        assert.ok(at > 0);
        await migrate(t.db, all.slice(0, at));
        const cookie = {
          originalMaxAge: 3_600_000,
          expires: new Date(Date.now() + 3_600_000).toISOString(),
          httpOnly: true,
          path: '/',
        };
        const rows: [string, object, string][] = [
          ['a-laptop', { cookie, passport: { user: A } }, "now() + interval '1 hour'"],
          [
            'a-phone',
            { cookie, flash: [{ type: 'success', text: 'Saved "user":"x"' }], passport: { user: A } },
            "now() + interval '1 hour'",
          ],
          [
            'b-desk',
            { cookie, passport: { user: B }, returnTo: `/admin/users/${A}/password` },
            "now() + interval '1 hour'",
          ],
          ['anonymous', { cookie, anon: true }, "now() + interval '1 hour'"],
          ['a-expired', { cookie, passport: { user: A } }, "now() - interval '1 hour'"],
        ];
        for (const [sid, data, expires] of rows) {
          await t.db.raw.query(`INSERT INTO "Session" (sid, data, "expiresAt") VALUES ($1, $2, ${expires})`, [
            sid,
            JSON.stringify(data),
          ]);
        }
        await migrate(t.db);
        const after = await t.db.raw.query<{ sid: string; userId: string | null }>(
          'SELECT sid, "userId" FROM "Session" ORDER BY sid',
        );
        assert.deepEqual(after, [
          { sid: 'a-expired', userId: null },
          { sid: 'a-laptop', userId: A },
          { sid: 'a-phone', userId: A },
          { sid: 'anonymous', userId: null },
          { sid: 'b-desk', userId: B },
        ]);

        const store = new PrismaSessionStore(t.db, { idleMs: 3_600_000, maxMs: 12 * 3_600_000, cacheMs: 0 });
        const loaded = await new Promise((res, rej) =>
          store.get('a-laptop', (err, sess) => (err ? rej(err) : res(sess))),
        );
        assert.deepEqual(
          (loaded as { passport: unknown }).passport,
          { user: A },
          'a session from before the migration still signs its user in',
        );

        assert.equal(await endUserSessions(t.db.prisma, A), 2);
        const left = await t.db.raw.query<{ sid: string }>('SELECT sid FROM "Session" ORDER BY sid');
        assert.deepEqual(
          left.map((r) => r.sid),
          ['a-expired', 'anonymous', 'b-desk'],
          "the expired row is the sweeper's",
        );
      } finally {
        await t.drop();
      }
    });
  });
}
