// What the mailbox record shows besides the mailbox: its sign-in panel (chosen by Authenticate Using, with the
// provider's reason it cannot sign in, if any) and its latest Test & Enable runs and alerts.
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Step } from '../mail/types.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { providerFor, type CredentialProviders } from '../mail/credentials.ts';
import type { MailboxDetail } from './access.ts';

export async function loadReport(prisma: PrismaClient, mailboxId: string) {
  const [runs, alerts] = await Promise.all([
    prisma.testRun.findMany({ where: { mailboxId }, orderBy: { startedAt: 'desc' }, take: 10 }),
    prisma.alert.findMany({ where: { mailboxId }, orderBy: { createdAt: 'desc' }, take: 10 }),
  ]);
  const latest = runs.find((r) => (r.steps as unknown as Step[]).length > 0);
  return { runs, alerts, latest, latestSteps: (latest?.steps ?? []) as unknown as Step[] };
}
export type Report = Awaited<ReturnType<typeof loadReport>>;

/** The sign-in panel (views/mailboxes/_<panel>.ejs) and why signing in cannot work now; null without a profile. */
export function signInPanel(
  providers: CredentialProviders,
  mailbox: Pick<MailboxDetail, 'profile'>,
): { panel: string; problem: string | null } | null {
  const { profile } = mailbox;
  if (!profile) return null;
  return { panel: authMethod(profile).mailboxPanel, problem: providerFor(providers, profile).profileProblem(profile) };
}
