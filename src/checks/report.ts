// What the pages show of Test & Enable: a mailbox's latest step report, run history and alerts, and the
// live status rows the list polls.
import type { PrismaClient, Prisma } from '../generated/prisma/client.ts';
import type { Step } from '../mail/types.ts';
import { CHECK_STATUS, enabledLabel, retryText, when } from '../mailboxes/labels.ts';

export async function loadReport(prisma: PrismaClient, mailboxId: string) {
  const [runs, alerts] = await Promise.all([
    prisma.testRun.findMany({ where: { mailboxId }, orderBy: { startedAt: 'desc' }, take: 10 }),
    prisma.alert.findMany({ where: { mailboxId }, orderBy: { createdAt: 'desc' }, take: 10 }),
  ]);
  const latest = runs.find((r) => (r.steps as unknown as Step[]).length > 0);
  return { runs, alerts, latest, latestSteps: (latest?.steps ?? []) as unknown as Step[] };
}
export type Report = Awaited<ReturnType<typeof loadReport>>;

export interface LiveStatus {
  id: string; incomingStatus: string; outgoingStatus: string; enabled: string; lastTest: string; pending: boolean; retry: string;
}

type StatusFields = Prisma.MailboxGetPayload<{ select: typeof statusSelect }>;
export const statusSelect = {
  id: true, incomingStatus: true, outgoingStatus: true, enabledForIncoming: true, enabledForOutgoing: true,
  lastTestCompletedAt: true, retryCount: true, retryLimit: true, nextRetryAt: true,
} as const;

export function liveStatus(m: StatusFields): LiveStatus {
  return {
    id: m.id,
    incomingStatus: CHECK_STATUS[m.incomingStatus], outgoingStatus: CHECK_STATUS[m.outgoingStatus],
    enabled: enabledLabel(m), lastTest: when(m.lastTestCompletedAt),
    pending: m.incomingStatus === 'PENDING' || m.outgoingStatus === 'PENDING', retry: retryText(m),
  };
}
