// Builds the Step records the probes return, so every probe words ok/fail/skip the same way.
import type { MappedFailure } from './errors.ts';
import type { Step } from './types.ts';

/** Step ids, the same whichever protocol or provider: the enable rules (checks/outcome.ts) key on them. */
export const STEP = {
  token: 'token',
  account: 'account',
  incomingLogin: 'incoming-login',
  incomingMailbox: 'incoming-mailbox',
  outgoingLogin: 'outgoing-login',
  outgoingMessage: 'outgoing-message',
} as const;

export const okStep = (id: string, label: string, message?: string): Step => ({
  id,
  label,
  status: 'ok',
  ...(message ? { message } : {}),
});

export const failStep = (id: string, label: string, f: MappedFailure): Step => ({
  id,
  label,
  status: 'fail',
  code: f.code,
  message: f.message,
  hint: f.hint,
  transient: f.transient,
});

/** A failed step from the job's own checks (token, account, credentials), where there is no server error to map. */
export const codedFailStep = (
  id: string,
  label: string,
  code: string,
  message: string,
  hint: string,
  transient = false,
): Step => ({ id, label, status: 'fail', code, message, hint, transient });

export const skipStep = (id: string, label: string, message: string): Step => ({ id, label, status: 'skip', message });

/** The secrets a probe must never echo back. */
export const secretsOf = (auth: { kind: string; accessToken?: string; password?: string }): string[] =>
  [auth.accessToken, auth.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
