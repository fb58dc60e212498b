// Turns a run's steps into the mailbox's outcome: statuses per side, what gets enabled, whether to retry,
// and the alert to raise. Pure, so every rule is unit-tested without servers.
import type { Step } from '../mail/types.ts';
import { STEP } from '../mail/steps.ts';

export type SideStatus = 'NOT_RUN' | 'SUCCESS' | 'FAILURE';

export interface OutcomeInput {
  steps: Step[];
  incomingChecked: boolean;
  outgoingChecked: boolean;
  approved: boolean;
  /** 1 for the first run of a request, 2 for the first retry… */
  attempt: number;
  retryLimit: number;
}

export interface Outcome {
  retry: boolean;
  /** The failure was one a retry may clear, but every attempt is used up: the alert and hints say it stopped. */
  gaveUp: boolean;
  incomingStatus: SideStatus;
  outgoingStatus: SideStatus;
  enabledForIncoming: boolean;
  enabledForOutgoing: boolean;
  alert: { level: 'ERROR' | 'WARNING' | 'INFO'; code: string; message: string; hint: string };
}

const COMMON = [STEP.token, STEP.account];
const passed = (steps: Step[], ids: readonly string[]) =>
  ids.every((id) => {
    const s = steps.find((x) => x.id === id);
    return s?.status !== 'fail';
  }) && ids.some((id) => steps.find((x) => x.id === id)?.status === 'ok');

/** Codes that refuse the mailbox's sign-in or its account as a whole: retrying would repeat a refused login. */
const MAILBOX_WIDE = new Set([
  'TOKEN_REVOKED',
  'MISSING_SCOPE',
  'OAUTH_CLIENT',
  'AUTH_FAILED',
  'ADMIN_POLICY',
  'ACCOUNT_MISMATCH',
  'NOT_SIGNED_IN',
  'SECRET_UNREADABLE',
  'NO_PROFILE',
]);
const INCOMING: readonly string[] = [STEP.incomingLogin, STEP.incomingMailbox];
const OUTGOING: readonly string[] = [STEP.outgoingLogin, STEP.outgoingMessage];

/**
 * How severe a permanent failure is: 2 when it stops the whole mailbox (a credentials step, or a refused sign-in on
 * either side), 1 when it is confined to its side (IMAP turned off, a bad certificate), 0 for a transient one.
 */
export function severity(s: Step): 0 | 1 | 2 {
  if (s.status !== 'fail' || s.transient) return 0;
  return COMMON.includes(s.id as (typeof COMMON)[number]) || MAILBOX_WIDE.has(s.code ?? '') ? 2 : 1;
}

/**
 * The retry is decided by the most severe permanent step (issue 13 item 2): none stops the mailbox, and some side
 * failed only transiently, so another attempt may still enable that side. A side's own permanent failure does not
 * hold back the other side's retry; a mailbox-wide one (a refused sign-in) stops everything.
 */
export function retriable(steps: Step[]): boolean {
  const failed = steps.filter((s) => s.status === 'fail');
  if (failed.some((s) => severity(s) === 2)) return false;
  const sideRetriable = (ids: readonly string[]) => {
    const mine = failed.filter((s) => ids.includes(s.id));
    return mine.length > 0 && mine.every((s) => s.transient);
  };
  return sideRetriable(INCOMING) || sideRetriable(OUTGOING) || (failed.length > 0 && failed.every((s) => s.transient));
}

export function decideOutcome(i: OutcomeInput): Outcome {
  const failed = i.steps.filter((s) => s.status === 'fail');
  const canRetry = retriable(i.steps);
  const retry = canRetry && i.attempt <= i.retryLimit;
  const gaveUp = canRetry && !retry;
  const incomingOk =
    i.incomingChecked &&
    passed(i.steps, [...COMMON, STEP.incomingLogin, STEP.incomingMailbox]) &&
    i.steps.some((s) => s.id === STEP.incomingMailbox && s.status === 'ok');
  const outgoingOk =
    i.outgoingChecked &&
    passed(i.steps, [...COMMON, STEP.outgoingLogin, STEP.outgoingMessage]) &&
    i.steps.some((s) => s.id === STEP.outgoingLogin && s.status === 'ok');
  const side = (checked: boolean, ok: boolean): SideStatus => (!checked ? 'NOT_RUN' : ok ? 'SUCCESS' : 'FAILURE');
  // The alert names what the admin must act on: the most severe permanent step; while retrying, the transient one.
  const worst = [...failed].sort((a, b) => severity(b) - severity(a))[0];
  const first = retry ? (failed.find((s) => s.transient) ?? worst) : worst;
  const stopped = gaveUp && first?.transient === true;
  let alert: Outcome['alert'];
  if (first) {
    alert = {
      level: 'ERROR',
      code: first.code ?? 'UNKNOWN',
      message: `${first.label}: ${first.message ?? 'failed'}${stopped ? ` Gave up after ${i.attempt} attempts.` : ''}`,
      hint: stopped ? gaveUpHint(first.hint ?? '', i.attempt) : (first.hint ?? ''),
    };
  } else if (!i.incomingChecked && !i.outgoingChecked) {
    alert = {
      level: 'WARNING',
      code: 'NOTHING_TO_TEST',
      message: 'Neither Incoming nor Outgoing Email uses Server-Side Synchronization, so nothing was tested.',
      hint: 'Set Incoming Email or Outgoing Email to Server-Side Synchronization, then select Test & Enable Mailbox.',
    };
  } else if (!i.approved) {
    alert = {
      level: 'WARNING',
      code: 'NOT_APPROVED',
      message: 'All checks passed, but the mailbox was not enabled because its email address is not approved.',
      hint: 'An administrator must select Approve Email on this mailbox, then select Test & Enable Mailbox again.',
    };
  } else {
    alert = {
      level: 'INFO',
      code: 'ENABLED',
      message: 'All checks passed. The mailbox is enabled for server-side synchronization.',
      hint: '',
    };
  }
  return {
    retry,
    gaveUp,
    incomingStatus: side(i.incomingChecked, incomingOk),
    outgoingStatus: side(i.outgoingChecked, outgoingOk),
    enabledForIncoming: i.approved && incomingOk,
    enabledForOutgoing: i.approved && outgoingOk,
    alert,
  };
}

const WILL_RETRY = /Test & Enable Mailbox will try again automatically(?:; if it keeps failing, (.*?))?\.?$/;

/**
 * A transient failure's hint once the retries are used up: "will try again automatically; if it keeps failing,
 * check X" becomes "tried N times and stopped trying. Check X, then select Test & Enable Mailbox again."
 */
export function gaveUpHint(hint: string, attempts: number): string {
  const stopped = `Test & Enable Mailbox tried ${attempts} times and stopped trying.`;
  const m = WILL_RETRY.exec(hint);
  if (!m) return [stopped, hint || 'Select Test & Enable Mailbox again later.'].join(' ');
  const todo = m[1]
    ? `${m[1].charAt(0).toUpperCase()}${m[1].slice(1)}, then select Test & Enable Mailbox again.`
    : 'Select Test & Enable Mailbox again later.';
  return [hint.slice(0, m.index).trim(), stopped, todo].filter(Boolean).join(' ');
}

/** Exponential backoff with full jitter in [d/2, d]: d = base·2^(attempt-1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs = 5 * 60_000, random = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}
