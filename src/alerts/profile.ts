// A profile's own alerts for its record (e.g. "more than half of this profile's mailboxes failed in the last hour"),
// newest first, with a link to every alert of the profile and its mailboxes on the Alerts page.
import type { PrismaClient } from '../generated/prisma/client.ts';
import { alertRow, alertRowSelect } from './rows.ts';

export async function profileAlerts(prisma: PrismaClient, profileId: string, take = 10) {
  const rows = await prisma.alert.findMany({
    where: { profileId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take,
    select: alertRowSelect,
  });
  return {
    rows: rows.map((a) => alertRow(a, { linkProfiles: true })),
    all: `/alerts?profile=${profileId}`,
  };
}
export type ProfileAlerts = Awaited<ReturnType<typeof profileAlerts>>;
