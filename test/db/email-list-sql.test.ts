// The Emails list reads a page in one SQL statement (decision 032); its sorts and filters are defined in Prisma's terms
// (emailList's orderBy, emailsWhere) and what a user may see by visibleEmailsWhere. This checks, on both engines, that
// the SQL pages are the pages Prisma's queries give — rows, order, fields, count and cursors, following the cursors
// forward and back — for every sort and direction, every filter, searches with LIKE's special characters, for an admin
// and for a user (their mailboxes' emails only).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { emailList, emailsWhere, listEmails, type EmailListQuery } from '../../src/emails/list.ts';
import { visibleEmailsWhere } from '../../src/emails/access.ts';
import { emailRowSelect } from '../../src/emails/rows.ts';
import type { Prisma } from '../../src/generated/prisma/client.ts';

type User = { id: string; role: 'ADMIN' | 'USER' };

const SUBJECTS = ['Invoice 7', 'invoice 8', 'Meeting', 'b%ta', 'b_ta', 'back\\slash', '100% sure', 'Zed', ''];
const DAY = Date.UTC(2026, 10, 20, 12, 30, 45, 123);

for (const mode of dbModes()) {
  describe(`Emails list SQL = Prisma [${mode}]`, () => {
    let t: TestDb;
    const users = { admin: { id: '', role: 'ADMIN' }, a: { id: '', role: 'USER' } } as Record<string, User>;
    const boxes: string[] = [];

    /** The list as Prisma reads it: the same keyset machinery, Prisma's where and past-the-cursor clause. */
    const prismaPage = (user: User, l: EmailListQuery) => {
      const where = emailsWhere(visibleEmailsWhere(user), l);
      return emailList.readKeyset(l, {
        rows: ({ past, take, orderBy }) =>
          t.db.prisma.email.findMany({
            where: past ? { AND: [where, past as Prisma.EmailWhereInput] } : where,
            take,
            orderBy,
            select: emailRowSelect,
          }),
        count: (upTo) => t.db.prisma.email.count({ where, take: upTo }),
      });
    };

    before(async () => {
      t = await createTestDb(mode);
      const p = t.db.prisma;
      const mk = (email: string, role: User['role']) =>
        p.user.create({ data: { email, name: email, passwordHash: 'x', role }, select: { id: true } });
      users.admin.id = (await mk('admin@example.com', 'ADMIN')).id;
      users.a.id = (await mk('a@example.com', 'USER')).id;
      const b = (await mk('b@example.com', 'USER')).id;
      const owners = [users.a.id, b, users.admin.id, users.a.id];
      for (let i = 0; i < 4; i++)
        boxes.push(
          (
            await p.mailbox.create({
              data: { name: `Box ${i % 2 ? 'odd' : 'even'}`, emailAddress: `box${i}@mail.test`, ownerId: owners[i] },
            })
          ).id,
        );
      const statuses = ['RECEIVED', 'SENT', 'FAILED', 'PENDING_SEND'] as const;
      // 140 emails: three pages for an admin, with repeated dates, senders and subjects so the id tiebreak decides.
      await p.email.createMany({
        data: Array.from({ length: 140 }, (_, i) => ({
          mailboxId: boxes[i % 4],
          direction: i % 3 ? ('INCOMING' as const) : ('OUTGOING' as const),
          status: statuses[i % 4],
          messageId: `<${i}@test>`,
          fromAddress: `${['alice', 'Bob', 'carol_x', 'dave%'][i % 4]}@example.test`,
          fromName: ['Alice', 'bob', '', 'Dave'][(i >> 1) % 4],
          to: [{ address: `to${i % 3}@example.test`, name: '' }],
          subject: `${SUBJECTS[i % SUBJECTS.length]}${i % 2 ? '' : ` ${i % 5}`}`,
          // Every 3 emails share a time; the days span a week (the date filters cut through it).
          occurredAt: new Date(DAY - Math.floor(i / 3) * 4 * 3_600_000),
        })),
      });
    });
    after(() => t.drop());

    /** Page 1 of a query and the pages its cursors lead to (two forward, then one back), both ways, compared. */
    async function compareWalk(who: string, query: Record<string, string>): Promise<number> {
      const user = users[who];
      const what = `${who} ${JSON.stringify(query)}`;
      let l = emailList.parse(query);
      let nonEmpty = 0;
      for (const step of ['page 1', 'next', 'next', 'previous']) {
        const expected = await prismaPage(user, l);
        const got = await listEmails(t.db.raw, user, l);
        assert.deepEqual(got, expected, `${what}, ${step}`);
        nonEmpty += expected.rows.length ? 1 : 0;
        const c = expected.cursors;
        const to = step === 'next' && !c?.after ? 'previous' : 'next';
        if (to === 'next' && c?.after) l = { ...l, after: c.after, before: null, page: expected.query.page + 1 };
        else if (c?.before) l = { ...l, before: c.before, after: null, page: expected.query.page - 1 };
        else break;
      }
      return nonEmpty;
    }

    test('every sort and direction, walked by its cursors: the same pages', async () => {
      let compared = 0;
      for (const sort of Object.keys(emailList.spec.sorts))
        for (const dir of ['asc', 'desc']) compared += await compareWalk('admin', { sort, dir });
      assert.ok(compared >= 20, `compared ${compared} non-empty pages`);
    });

    test('every filter and search, for an admin and for a user: the same pages', async () => {
      const filters: Record<string, string>[] = [
        {},
        { mailbox: boxes[0] },
        { mailbox: boxes[1] }, // another user's mailbox: nothing for user a
        { direction: 'OUTGOING' },
        { direction: 'INCOMING' },
        { status: 'SENT' },
        { status: 'PENDING_SEND' },
        { since: '2026-11-18' },
        { until: '2026-11-17' },
        { since: '2026-11-16', until: '2026-11-18' },
        { direction: 'INCOMING', status: 'RECEIVED', sort: 'from', dir: 'asc' },
      ];
      for (const q of ['', 'invoice', 'ALICE', '%', '_', '\\', 'b_t', 'nothing-matches'])
        filters.push({ q, sort: 'subject' });
      let compared = 0;
      for (const query of filters) for (const who of ['admin', 'a']) compared += await compareWalk(who, query);
      assert.ok(compared >= 40, `compared ${compared} non-empty pages`);
    });

    test('a search finds its text literally, a user only their mailboxes', async () => {
      const rows = async (who: string, q: string) =>
        (await listEmails(t.db.raw, users[who], emailList.parse({ q }))).rows;
      const percent = await rows('admin', '%');
      assert.ok(percent.length > 0 && percent.every((r) => `${r.subject}${r.fromAddress}`.includes('%')));
      assert.deepEqual(new Set((await rows('admin', 'b_t')).map((r) => r.subject.slice(0, 4))), new Set(['b_ta']));
      const mine = (await rows('a', '')).map((r) => r.mailbox.id);
      assert.deepEqual([...new Set(mine)].sort(), [boxes[0], boxes[3]].sort());
    });
  });
}
