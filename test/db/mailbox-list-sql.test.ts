// The mailbox list reads its page in one SQL statement (decision 028), while the bulk actions' "all matching" and the
// sort definitions stay Prisma's (mailboxListWhere, mailboxList.orderBy). This checks, on both engines, that the two
// select the same mailboxes in the same order with the same fields, for every sort and direction, searches with
// LIKE's special characters, the profile filter, and a user's own mailboxes only.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { listMailboxes, mailboxList, mailboxListWhere, rowSelect } from '../../src/mailboxes/list.ts';

const NAMES = [
  'Alpha',
  'alpha',
  'Beta',
  'b%ta',
  'b_ta',
  'back\\slash',
  'Gamma',
  'gamma',
  'Zed',
  '100% sure',
  'under_score',
];

for (const mode of dbModes()) {
  describe(`mailbox list SQL = Prisma [${mode}]`, () => {
    let t: TestDb;
    const users = { admin: { id: '', role: 'ADMIN' as const }, a: { id: '', role: 'USER' as const } };
    let profileIds: string[] = [];
    before(async () => {
      t = await createTestDb(mode);
      const p = t.db.prisma;
      const mk = (email: string, role: 'ADMIN' | 'USER') =>
        p.user.create({ data: { email, name: email, passwordHash: 'x', role }, select: { id: true } });
      users.admin.id = (await mk('admin@example.com', 'ADMIN')).id;
      users.a.id = (await mk('a@example.com', 'USER')).id;
      const b = (await mk('b@example.com', 'USER')).id;
      const profile = (name: string, googleAppInTesting: boolean) =>
        p.emailServerProfile.create({
          data: {
            name,
            incomingServer: 'i',
            incomingPort: 993,
            outgoingServer: 'o',
            outgoingPort: 587,
            googleAppInTesting,
          },
        });
      profileIds = [(await profile('P one', true)).id, (await profile('p two', false)).id];
      const statuses = ['NOT_RUN', 'PENDING', 'SUCCESS', 'FAILURE'] as const;
      const approvals = ['PENDING', 'APPROVED', 'REJECTED'] as const;
      const day = Date.UTC(2026, 10, 1, 12, 30, 45, 123);
      // 66 mailboxes: more than a page, with repeated sort values so the id tiebreak decides.
      for (let i = 0; i < 66; i++) {
        const m = await p.mailbox.create({
          data: {
            name: `${NAMES[i % NAMES.length]}${i % 3 ? '' : ` ${i}`}`,
            emailAddress: `box${i}@${i % 2 ? 'Example' : 'mail'}.test`,
            ownerId: [users.a.id, b, users.admin.id][i % 3],
            profileId: i % 4 === 3 ? null : profileIds[i % 2],
            incomingStatus: statuses[i % 4],
            outgoingStatus: statuses[(i >> 1) % 4],
            emailApproval: approvals[i % 3],
            enabledForIncoming: i % 2 === 0,
            enabledForOutgoing: i % 5 === 0,
            lastTestCompletedAt: i % 3 === 0 ? null : new Date(day + (i % 7) * 3_600_000),
            retryCount: i % 3,
            nextRetryAt: i % 4 === 1 ? new Date(day + i * 60_000) : null,
          },
        });
        if (i % 3 !== 1)
          await p.gmailGrant.create({
            data: {
              mailboxId: m.id,
              googleEmail: `g${i % 5}@gmail.test`,
              grantedScopes: 's',
              accessToken: 'x',
              accessTokenExpiresAt: new Date(day),
              needsReconsent: i % 6 === 0,
              signInRequiredAt: i % 9 === 0 ? new Date(day - 1000) : null,
              refreshTokenIssuedAt: i % 2 ? new Date(day - 86_400_000) : null,
            },
          });
        if (i % 4 !== 0)
          await p.mailboxSync.create({
            data: {
              mailboxId: m.id,
              state: (['STOPPED', 'BACKING_OFF', 'POLLING'] as const)[i % 3],
              stoppedReason: i % 2 ? 'because' : null,
            },
          });
      }
    });
    after(() => t.drop());

    test('every sort, direction, search, filter and user: same rows, order, fields and count', async () => {
      const sorts = Object.keys(mailboxList.spec.sorts);
      const searches = ['', 'alpha', '%', '_', '\\', 'EXAMPLE', 'nothing-matches'];
      const cases: Record<string, string>[] = [];
      // Every sort and direction, two pages (the id tiebreak across the page boundary)…
      for (const sort of sorts)
        for (const dir of ['asc', 'desc']) for (const page of ['1', '2']) cases.push({ sort, dir, page, who: 'admin' });
      // …and every search with and without the profile filter, for an admin and for a user (own mailboxes only).
      for (const q of searches)
        for (const profile of ['', profileIds[0]])
          for (const who of ['admin', 'a']) cases.push({ q, profile, who, sort: q ? 'email' : 'gmail', dir: 'desc' });
      let compared = 0;
      for (const { who, ...query } of cases) {
        const user = who === 'admin' ? users.admin : users.a;
        const l = mailboxList.parse(query);
        const page = l.page;
        const where = mailboxListWhere(user, l);
        const expected = await t.db.prisma.mailbox.findMany({
          where,
          select: rowSelect,
          orderBy: mailboxList.orderBy(l),
          skip: (page - 1) * mailboxList.pageSize,
          take: mailboxList.pageSize,
        });
        const total = await t.db.prisma.mailbox.count({ where });
        const got = await listMailboxes(t.db.raw, user, l);
        const what = `${who} ${JSON.stringify(query)}`;
        assert.deepEqual(got.rows, expected, what);
        assert.equal(got.total, total, `${what}: count`);
        assert.ok(got.exact, what);
        compared += expected.length ? 1 : 0;
      }
      assert.ok(compared > 50, `compared ${compared} non-empty pages`);
    });

    test('a search finds its text literally: % and _ are not wildcards', async () => {
      const names = async (q: string) =>
        (await listMailboxes(t.db.raw, users.admin, mailboxList.parse({ q }))).rows
          .map((r) => r.name.replace(/ \d+$/, ''))
          .sort();
      assert.deepEqual([...new Set(await names('%'))], ['100% sure', 'b%ta']);
      assert.deepEqual([...new Set(await names('b_t'))], ['b_ta']);
      assert.deepEqual([...new Set(await names('\\'))], ['back\\slash']);
    });
  });
}
