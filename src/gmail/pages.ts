// The result page of Sign in to Gmail when nothing could be stored: one view, one wording per reason.
import type { Response } from 'express';
import type { FlowProblem, PendingFlow } from './flow-store.ts';

export interface ResultPage {
  title: string;
  message: string;
  /** Text from Google (error_description): shown escaped, clipped. */
  detail?: string;
  mailboxId?: string;
  /** The next step when it is to start again: Sign in to Gmail again (a mailbox) or Connect Gmail again. */
  again?: { href: string; label: string };
  /** A refusal the user must not miss (the 101st mailbox), shown as a banner at the top, as forms show theirs. */
  banner?: string;
}

/** Where starting again begins for a flow: the mailbox's Sign in to Gmail, or Connect Gmail. */
export function startAgain(flow: Pick<PendingFlow, 'kind' | 'mailboxId'>): NonNullable<ResultPage['again']> {
  return flow.kind === 'mailbox' && flow.mailboxId
    ? { href: `/mailboxes/${flow.mailboxId}/gmail/signin`, label: 'Sign in to Gmail again' }
    : { href: '/mailboxes/connect-gmail', label: 'Connect Gmail again' };
}

const START_AGAIN = 'Nothing was saved. Start again with Sign in to Gmail on the mailbox.';

export const FLOW_PROBLEMS: Record<FlowProblem | 'signed-out', ResultPage> = {
  missing: {
    title: 'Sign-in not recognised',
    message: `Google's answer carried no state, so it cannot be matched to a sign-in started here. ${START_AGAIN}`,
  },
  unknown: {
    title: 'Sign-in not recognised',
    message: `This Google answer does not match a sign-in started in this browser session, or it was already used. ${START_AGAIN}`,
  },
  expired: {
    title: 'Sign-in expired',
    message: `This sign-in was started more than 15 minutes ago and has expired. ${START_AGAIN}`,
  },
  'other-user': {
    title: 'Sign-in not recognised',
    message: `This sign-in was started by another Mailroom user. ${START_AGAIN}`,
  },
  'signed-out': {
    title: 'Sign in to Mailroom first',
    message:
      'Your Mailroom session has ended, so this Google answer cannot be matched to a mailbox. Sign in to Mailroom, then start again with Sign in to Gmail.',
  },
};

export function googleErrorPage(
  error: string,
  description: string | undefined,
  flow: Pick<PendingFlow, 'kind' | 'mailboxId'>,
): ResultPage {
  const detail = description?.slice(0, 500);
  const { mailboxId } = flow;
  const again = startAgain(flow);
  if (error === 'access_denied') {
    return {
      title: 'Access not granted',
      mailboxId,
      detail,
      again,
      message:
        "Google reports that access was not granted: the sign-in was cancelled, or consent was refused. Nothing was saved. To connect the mailbox, start again and choose Allow on Google's consent screen.",
    };
  }
  return {
    title: 'Google refused the sign-in',
    mailboxId,
    detail,
    again,
    message: `Google answered with the error “${error.slice(0, 100)}”. Nothing was saved.`,
  };
}

export function renderResult(res: Response, status: number, page: ResultPage): void {
  res.status(status).render('gmail/result', {
    ...page,
    detail: page.detail ?? null,
    mailboxId: page.mailboxId ?? null,
    again: page.again ?? null,
    banner: page.banner ?? null,
  });
}
