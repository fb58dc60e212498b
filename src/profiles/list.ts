// The profile list: search by name, sort by a column, 50 per page, with each profile's mailbox count.
import type { Prisma } from '../generated/prisma/client.ts';
import type { RawSql } from '../db/client.ts';
import { COUNT_CAP, defineList, type QueryOf } from '../web/list.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { cappedCount, containsPattern, epochMs, jsonRowsSql, sqlParams } from '../web/list-sql.ts';

export const profileList = defineList<
  Prisma.EmailServerProfileOrderByWithRelationInput,
  'name' | 'serverType' | 'authenticateUsing' | 'mailboxes' | 'modifiedOn'
>({
  sorts: {
    name: { label: 'Name', orderBy: (d) => [{ name: d }] },
    serverType: { label: 'Server Type', orderBy: (d) => [{ serverType: d }] },
    authenticateUsing: { label: 'Authenticate Using', orderBy: (d) => [{ authenticateUsing: d }] },
    mailboxes: { label: 'Mailboxes', first: 'desc', orderBy: (d) => [{ mailboxes: { _count: d } }] },
    modifiedOn: { label: 'Modified On', first: 'desc', orderBy: (d) => [{ updatedAt: d }] },
  },
  defaultSort: 'name',
  tiebreak: [{ name: 'asc' }, { id: 'asc' }],
  searchMax: 100,
});
export type ProfileListQuery = QueryOf<typeof profileList>;

/** Only what a row shows: not the sealed secret, nor the settings the record page shows. */
export const rowSelect = {
  id: true,
  name: true,
  serverType: true,
  incomingServer: true,
  authenticateUsing: true,
  isDefaultGmail: true,
  updatedAt: true,
} as const satisfies Prisma.EmailServerProfileSelect;

export type ProfileRow = Prisma.EmailServerProfileGetPayload<{ select: typeof rowSelect }> & {
  mailboxCount: number;
  capacity: number | null;
};

type SortKey = keyof typeof profileList.spec.sorts;

/**
 * The list's order as SQL, the same as the sorts' Prisma `orderBy` above (test/db/profile-list-sql.test.ts compares
 * the two): enums order by their declared order in both, the mailbox count is the `n` column of the page's window.
 */
const SORT_SQL: Record<SortKey, (d: 'ASC' | 'DESC') => string> = {
  name: (d) => `p.name ${d}`,
  serverType: (d) => `p."serverType" ${d}`,
  authenticateUsing: (d) => `p."authenticateUsing" ${d}`,
  mailboxes: (d) => `p.n ${d}`,
  modifiedOn: (d) => `p."updatedAt" ${d}`,
};
/** The tiebreak (profileList's `tiebreak`) as SQL. */
const TIEBREAK_SQL = 'p.name ASC, p.id ASC';

/** The mailboxes of the profile `p`: one look-up on Mailbox's profileId index. */
const MAILBOX_COUNT = `(SELECT count(*) FROM "Mailbox" mb WHERE mb."profileId" = p.id)::int`;

interface FlatRow {
  id: string;
  name: string;
  serverType: string;
  incomingServer: string;
  authenticateUsing: string;
  isDefaultGmail: boolean;
  updatedAt: number;
  mailboxCount: number;
}

/**
 * One page of the list in one statement (as the mailbox list, decision 028; decision 036): the page's window chosen
 * from the profiles alone, each of its rows' mailboxes counted on Mailbox's profileId index, and, when the pager
 * could use it, the capped count as a column. Only the sort by mailbox count counts every matching profile's
 * mailboxes (it orders by them). Through Prisma the page took two statements (rows, then the grouped count).
 */
export async function listProfiles(sql: RawSql, l: ProfileListQuery) {
  const cap = COUNT_CAP;
  const { values: whereParams, param } = sqlParams();
  const where = l.q ? `WHERE p.name ILIKE ${param(containsPattern(l.q))}` : '';
  const counts = cappedCount(sql, `"EmailServerProfile" p`, where, whereParams, cap);
  const page = await profileList.read(l, {
    rows: async ({ skip, take }) => {
      const d = l.dir === 'asc' ? 'ASC' : 'DESC';
      const n = whereParams.length;
      const withCount = skip + profileList.pageSize < cap;
      const order = `${SORT_SQL[l.sort](d)}, ${TIEBREAK_SQL}`;
      const byCount = l.sort === 'mailboxes';
      const columns = {
        id: 'p.id',
        name: 'p.name',
        serverType: 'p."serverType"::text',
        incomingServer: 'p."incomingServer"',
        authenticateUsing: 'p."authenticateUsing"::text',
        isDefaultGmail: 'p."isDefaultGmail"',
        updatedAt: epochMs('p."updatedAt"'),
        mailboxCount: byCount ? 'p.n' : MAILBOX_COUNT,
      } satisfies Record<keyof FlatRow, string>;
      const [page] = await sql.query<{ rows: FlatRow[]; capped?: number | string }>(
        `SELECT ${jsonRowsSql(columns, order)} ${withCount ? counts.column : ''}
         FROM (SELECT p.* FROM ${byCount ? `(SELECT p.*, ${MAILBOX_COUNT} AS n FROM "EmailServerProfile" p) p` : `"EmailServerProfile" p`}
               ${where} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}) p`,
        [...whereParams, take, skip],
      );
      counts.seen(page);
      return page.rows.map(
        (r): ProfileRow => ({
          id: r.id,
          name: r.name,
          serverType: r.serverType as ProfileRow['serverType'],
          incomingServer: r.incomingServer,
          authenticateUsing: r.authenticateUsing as ProfileRow['authenticateUsing'],
          isDefaultGmail: r.isDefaultGmail,
          updatedAt: new Date(r.updatedAt),
          mailboxCount: r.mailboxCount,
          capacity: authMethod({ authenticateUsing: r.authenticateUsing as ProfileRow['authenticateUsing'] })
            .mailboxCapacity,
        }),
      );
    },
    count: counts.count,
  });
  return page;
}
