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

export function decideOutcome(i: OutcomeInput): Outcome {
  const failed = i.steps.filter((s) => s.status === 'fail');
  const retriable = failed.length > 0 && failed.every((s) => s.transient);
  const retry = retriable && i.attempt <= i.retryLimit;
  const gaveUp = retriable && !retry;
  const incomingOk =
    i.incomingChecked &&
    passed(i.steps, [...COMMON, STEP.incomingLogin, STEP.incomingMailbox]) &&
    i.steps.some((s) => s.id === STEP.incomingMailbox && s.status === 'ok');
  const outgoingOk =
    i.outgoingChecked &&
    passed(i.steps, [...COMMON, STEP.outgoingLogin, STEP.outgoingMessage]) &&
    i.steps.some((s) => s.id === STEP.outgoingLogin && s.status === 'ok');
  const side = (checked: boolean, ok: boolean): SideStatus => (!checked ? 'NOT_RUN' : ok ? 'SUCCESS' : 'FAILURE');
  const first = failed[0];
  let alert: Outcome['alert'];
  if (first) {
    alert = {
      level: 'ERROR',
      code: first.code ?? 'UNKNOWN',
      message: `${first.label}: ${first.message ?? 'failed'}${gaveUp ? ` Gave up after ${i.attempt} attempts.` : ''}`,
      hint: gaveUp ? gaveUpHint(first.hint ?? '', i.attempt) : (first.hint ?? ''),
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
