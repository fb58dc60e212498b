// What the mailbox record shows besides the mailbox: its sign-in panel (chosen by Authenticate Using, with the
// provider's reason it cannot sign in, if any) and its latest Test & Enable runs and alerts.
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Step } from '../mail/types.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { providerFor, type CredentialProviders } from '../mail/credentials.ts';
import type { MailboxDetail } from './access.ts';
import { relative, whenExact } from './labels.ts';

export async function loadReport(prisma: PrismaClient, mailboxId: string) {
  const [runs, alerts] = await Promise.all([
    prisma.testRun.findMany({ where: { mailboxId }, orderBy: { startedAt: 'desc' }, take: 10 }),
    prisma.alert.findMany({ where: { mailboxId }, orderBy: { createdAt: 'desc' }, take: 10 }),
  ]);
  const latest = runs.find((r) => stepsOf(r).length > 0);
  return { runs, alerts, latest, latestSteps: latest ? stepsOf(latest) : [] };
}
export type Report = Awaited<ReturnType<typeof loadReport>>;

const stepsOf = (r: { steps: unknown }) => r.steps as unknown as Step[];

type PanelMailbox = { retryLimit: number; nextRetryAt: Date | null };

/** A moment shown to the second, with how far it is from now (the page's script keeps the relative part current). */
export interface Moment {
  iso: string;
  exact: string;
  relative: string;
}
const moment = (d: Date, now: Date): Moment => ({
  iso: d.toISOString(),
  exact: whenExact(d, now),
  relative: relative(d, now),
});

/**
 * What the Test & Enable panel says beyond the statuses: the attempt in progress (running, or waiting for its retry
 * time), and the reason the last attempt failed, first, while it is the newest result.
 */
export function testProgress(mailbox: PanelMailbox, report: Report, now = new Date()) {
  const of = mailbox.retryLimit + 1;
  const active = report.runs.find((r) => r.status === 'QUEUED' || r.status === 'RUNNING');
  let current: { text: string; at: Moment } | null = null;
  if (active?.status === 'RUNNING')
    current = { text: `Attempt ${active.attempt} of ${of}: running since`, at: moment(active.startedAt, now) };
  else if (active && active.attempt > 1 && mailbox.nextRetryAt)
    current = {
      text: `Attempt ${active.attempt} of ${of} (retry ${active.attempt - 1} of ${mailbox.retryLimit}): starts at`,
      at: moment(mailbox.nextRetryAt, now),
    };
  else if (active)
    current = { text: `Attempt ${active.attempt} of ${of}: queued at`, at: moment(active.startedAt, now) };
  const failedStep = report.latest && stepsOf(report.latest).find((s) => s.status === 'fail');
  const lastFailure =
    report.latest && failedStep
      ? {
          attempt: report.latest.attempt,
          at: moment(report.latest.finishedAt ?? report.latest.startedAt, now),
          step: failedStep,
          retrying: report.latest.status === 'RETRYING' && !!active,
        }
      : null;
  return { current, lastFailure, now };
}

/** The sign-in panel (views/mailboxes/_<panel>.ejs) and why signing in cannot work now; null without a profile. */
export function signInPanel(
  providers: CredentialProviders,
  mailbox: Pick<MailboxDetail, 'profile'>,
): { panel: string; problem: string | null } | null {
  const { profile } = mailbox;
  if (!profile) return null;
  return { panel: authMethod(profile).mailboxPanel, problem: providerFor(providers, profile).profileProblem(profile) };
}
