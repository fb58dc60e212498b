// The profile list reads its page in one SQL statement (decision 036), while its sorts stay declared as Prisma's
// orderBy (profileList). This checks, on both engines, that the statement and the Prisma query select the same
// profiles in the same order with the same fields and mailbox counts, for every sort and direction over two pages,
// and for searches with LIKE's special characters.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { listProfiles, profileList, rowSelect } from '../../src/profiles/list.ts';
import { authMethod } from '../../src/mail/auth-methods.ts';
import { containsText } from '../../src/web/list-sql.ts';

const NAMES = ['Alpha', 'alpha', 'Beta', 'b%ta', 'b_ta', 'back\\slash', 'Gamma', 'gamma', 'Zed', '100% sure', 'x_y'];

for (const mode of dbModes()) {
  describe(`profile list SQL = Prisma [${mode}]`, () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb(mode);
      const p = t.db.prisma;
      const owner = await p.user.create({
        data: { email: 'o@example.com', name: 'o', passwordHash: 'x', role: 'USER' },
        select: { id: true },
      });
      const day = Date.UTC(2026, 10, 1, 12, 30, 45, 123);
      // 62 profiles: more than a page, with repeated server types, sign-in methods, mailbox counts and times, so the
      // tiebreak (name, id) decides within them.
      for (let i = 0; i < 62; i++) {
        const profile = await p.emailServerProfile.create({
          data: {
            name: `${NAMES[i % NAMES.length]} ${i}`,
            serverType: i % 3 ? 'IMAP' : 'POP3',
            incomingServer: `in${i % 4}.test`,
            incomingPort: 993,
            outgoingServer: 'o',
            outgoingPort: 587,
            authenticateUsing: i % 2 ? 'GMAIL_OAUTH' : 'CREDENTIALS_PER_MAILBOX',
            isDefaultGmail: i === 5,
            updatedAt: new Date(day + (i % 7) * 3_600_000),
          },
          select: { id: true },
        });
        const boxes = (i * 7) % 5; // 0–4 mailboxes
        if (boxes)
          await p.mailbox.createMany({
            data: Array.from({ length: boxes }, (_, k) => ({
              name: `m${i}-${k}`,
              emailAddress: `m${i}-${k}@example.test`,
              ownerId: owner.id,
              profileId: profile.id,
            })),
          });
      }
      // Mailboxes of no profile are counted for none.
      await p.mailbox.create({ data: { name: 'loose', emailAddress: 'loose@example.test', ownerId: owner.id } });
    });
    after(() => t.drop());

    const prismaPage = async (l: ReturnType<typeof profileList.parse>) => {
      const where = l.q ? { name: containsText(l.q) } : {};
      const rows = await t.db.prisma.emailServerProfile.findMany({
        where,
        select: { ...rowSelect, _count: { select: { mailboxes: true } } },
        orderBy: profileList.orderBy(l),
        skip: (l.page - 1) * profileList.pageSize,
        take: profileList.pageSize,
      });
      return {
        rows: rows.map(({ _count, ...r }) => ({
          ...r,
          mailboxCount: _count.mailboxes,
          capacity: authMethod(r).mailboxCapacity,
        })),
        total: await t.db.prisma.emailServerProfile.count({ where }),
      };
    };

    test('every sort, direction, page and search: same rows, order, fields, mailbox counts and count', async () => {
      const cases: Record<string, string>[] = [];
      for (const sort of Object.keys(profileList.spec.sorts))
        for (const dir of ['asc', 'desc']) for (const page of ['1', '2']) cases.push({ sort, dir, page });
      for (const q of ['alpha', 'A', '%', '_', '\\', 'B%T', 'nothing-matches'])
        for (const sort of ['name', 'mailboxes']) cases.push({ q, sort, dir: 'desc' });
      let compared = 0;
      for (const query of cases) {
        const l = profileList.parse(query);
        const expected = await prismaPage(l);
        const got = await listProfiles(t.db.raw, l);
        const what = JSON.stringify(query);
        assert.deepEqual(got.rows, expected.rows, what);
        assert.equal(got.total, expected.total, `${what}: count`);
        assert.ok(got.exact, what);
        compared += expected.rows.length ? 1 : 0;
      }
      assert.ok(compared >= 25, `compared ${compared} non-empty pages`);
    });

    test('a search finds its text literally: % and _ are not wildcards', async () => {
      const names = async (q: string) =>
        (await listProfiles(t.db.raw, profileList.parse({ q }))).rows.map((r) => r.name.replace(/ \d+$/, ''));
      assert.deepEqual([...new Set(await names('%'))].sort(), ['100% sure', 'b%ta']);
      assert.deepEqual([...new Set(await names('b_t'))], ['b_ta']);
      assert.deepEqual([...new Set(await names('\\'))], ['back\\slash']);
    });

    test("mailbox counts: each row shows its profile's own, the count sort orders by them", async () => {
      const page = await listProfiles(t.db.raw, profileList.parse({ sort: 'mailboxes' }));
      const counts = page.rows.map((r) => r.mailboxCount);
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => b - a),
      );
      assert.equal(counts[0], 4);
      assert.equal(page.total, 62);
      assert.equal(page.exact, true);
    });
  });
}
