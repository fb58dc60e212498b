// What a failed send means to the person who wrote the email: a code, a hint in their words, and whether trying again
// later may work. Gmail's SMTP answers specific to sending are read here; everything else is the shared map
// (src/mail/errors.ts), with hints reworded for sending.
import { mapError } from '../mail/errors.ts';
import { safeRemoteText } from '../mail/redact.ts';

export interface SendFailure {
  code: string;
  message: string;
  hint: string;
  transient: boolean;
}

const SIGN_IN_AGAIN = 'Sign in to Gmail again on the mailbox (Sign in to Gmail), then write the email again.';

/** Send-specific hints; codes not listed keep the shared map's hint. */
const SEND_HINTS: Record<string, { hint: string; transient: boolean }> = {
  RECIPIENT_REJECTED: {
    transient: false,
    hint: 'The server refused a recipient address (550: no such mailbox, or not allowed). Check To, Cc and Bcc for typos and write the email again.',
  },
  MESSAGE_TOO_LARGE: {
    transient: false,
    hint: 'The message is larger than the server accepts (Gmail: 25 MB). Shorten it and write the email again.',
  },
  DAILY_LIMIT: {
    transient: false,
    hint: "Gmail's daily sending limit for this account is reached (Gmail: 500 recipients a day, Workspace: 2,000). Write the email again after 24 hours.",
  },
  MESSAGE_REJECTED: {
    transient: false,
    hint: 'The server refused the message (for example as spam or by a policy). Read the server message above; change the message or ask the administrator.',
  },
  TOKEN_REVOKED: { transient: false, hint: SIGN_IN_AGAIN },
  AUTH_FAILED: { transient: false, hint: SIGN_IN_AGAIN },
  SMTP_TEMPORARY: {
    transient: true,
    hint: 'Gmail refused for now (rate limit or a temporary problem). Mailroom tries again automatically.',
  },
  TOKEN_ENDPOINT: {
    transient: true,
    hint: "Google's token endpoint did not answer as expected. Mailroom tries again automatically.",
  },
  SERVER_TEMPORARY: {
    transient: true,
    hint: 'Gmail reported a temporary problem. Mailroom tries again automatically.',
  },
  TIMEOUT: { transient: true, hint: 'The server did not answer in time. Mailroom tries again automatically.' },
  CONNECTION_RESET: { transient: true, hint: 'The connection was dropped. Mailroom tries again automatically.' },
  CONNECTION_REFUSED: {
    transient: true,
    hint: 'Nothing accepted the connection. Mailroom tries again automatically; if it keeps failing, check Outgoing Server Location and port in the email server profile.',
  },
};

/** Gmail's SMTP refusals of a message or recipient (enhanced status codes and texts). */
function sendCode(text: string, responseCode: number, command: string): string | undefined {
  if (/5\.4\.5|daily (?:user )?sending (?:quota|limit)/i.test(text)) return 'DAILY_LIMIT';
  if (responseCode === 552 || /5\.3\.4|message (?:size )?exceeds|too large/i.test(text)) return 'MESSAGE_TOO_LARGE';
  if (responseCode >= 500 && (/^RCPT/i.test(command) || /5\.1\.[0-9]/.test(text))) return 'RECIPIENT_REJECTED';
  if (responseCode >= 500 && /^DATA/i.test(command)) return 'MESSAGE_REJECTED';
  return undefined;
}

/** A send error → failure. `secrets` are removed from the server's text. */
export function sendFailureOf(err: unknown, auth: 'xoauth2' | 'password', secrets: readonly string[]): SendFailure {
  const e = (err && typeof err === 'object' ? err : {}) as Record<string, unknown>;
  const response = typeof e.response === 'string' ? e.response : '';
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : Number(/^\d{3}/.exec(response)?.[0] ?? 0);
  const specific = sendCode(response, responseCode, typeof e.command === 'string' ? e.command : '');
  if (specific) {
    const entry = SEND_HINTS[specific];
    return { code: specific, message: safeRemoteText(response, secrets), hint: entry.hint, transient: entry.transient };
  }
  const mapped = mapError(err, { protocol: 'smtp', auth, secrets });
  const entry = SEND_HINTS[mapped.code];
  // A 5xx the shared map does not know is still a refusal: permanent.
  return {
    code: mapped.code,
    message: mapped.message,
    hint: entry && !(mapped.code === 'AUTH_FAILED' && auth === 'password') ? entry.hint : mapped.hint,
    transient: entry ? entry.transient : mapped.transient,
  };
}

/** A credentials provider's refusal (revoked token, no grant) reworded for sending. */
export function credentialFailure(f: SendFailure): SendFailure {
  const entry = SEND_HINTS[f.code];
  return entry ? { ...f, hint: entry.hint } : f;
}

export const UNKNOWN_HINT =
  "The server may have accepted the message before the connection was lost. Check the mailbox's Sent folder in Gmail: if the message is not there, write it again. Mailroom never resends it by itself.";
