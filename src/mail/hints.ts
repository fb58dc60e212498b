// Failure codes of the probes with what the user should do about each, and whether a retry may clear it.
export type FailureCode =
  | 'TOKEN_REVOKED'
  | 'MISSING_SCOPE'
  | 'OAUTH_CLIENT'
  | 'AUTH_FAILED'
  | 'IMAP_DISABLED'
  | 'POP_DISABLED'
  | 'TOO_MANY_CONNECTIONS'
  | 'ADMIN_POLICY'
  | 'TLS_CERT'
  | 'TLS_HANDSHAKE'
  | 'TLS_REQUIRED'
  | 'CONNECTION_REFUSED'
  | 'CONNECTION_RESET'
  | 'DNS'
  | 'TIMEOUT'
  | 'SMTP_TEMPORARY'
  | 'SERVER_TEMPORARY'
  | 'CANCELLED'
  | 'UNKNOWN';

export interface Failure {
  code: FailureCode;
  hint: string;
  transient: boolean;
}

const RETRY = 'Test & Enable Mailbox will try again automatically; if it keeps failing, ';

const TABLE: Record<FailureCode, { hint: string; transient: boolean }> = {
  TOKEN_REVOKED: {
    transient: false,
    hint: 'Select Sign in to Gmail again. If the Google app is in Testing status, refresh tokens expire after 7 days: publish the app to Production.',
  },
  MISSING_SCOPE: {
    transient: false,
    hint: 'Google did not grant full Gmail access (https://mail.google.com/). Select Sign in to Gmail again and tick "Read, compose, send and permanently delete all your email from Gmail"; make sure the OAuth consent screen lists that scope.',
  },
  OAUTH_CLIENT: {
    transient: false,
    hint: 'Google rejected the OAuth client. Check Client ID and Client Secret in the email server profile against the Google Cloud console, then select Sign in to Gmail again.',
  },
  AUTH_FAILED: {
    transient: false,
    hint: 'Gmail did not accept the access token. Select Sign in to Gmail again with the Google account whose address matches the mailbox, then select Test & Enable Mailbox again.',
  },
  IMAP_DISABLED: {
    transient: false,
    hint: 'In Gmail, open Settings → See all settings → Forwarding and POP/IMAP and choose Enable IMAP, then select Test & Enable Mailbox again.',
  },
  POP_DISABLED: {
    transient: false,
    hint: 'In Gmail, open Settings → See all settings → Forwarding and POP/IMAP and choose Enable POP for all mail, then select Test & Enable Mailbox again.',
  },
  TOO_MANY_CONNECTIONS: {
    transient: true,
    hint: `Gmail allows 15 simultaneous IMAP connections per account. Close other mail apps that use this account or lower Maximum Concurrent Connections in the email server profile. ${RETRY}check those apps.`,
  },
  ADMIN_POLICY: {
    transient: false,
    hint: 'Your Google Workspace administrator has turned off IMAP/POP for the domain. Ask them to allow it in the Google Admin console (Apps → Google Workspace → Gmail → End User Access), then select Test & Enable Mailbox again.',
  },
  TLS_CERT: {
    transient: false,
    hint: "The server's TLS certificate could not be verified. Check the server name in the email server profile (imap.gmail.com, pop.gmail.com, smtp.gmail.com) and that no proxy or antivirus intercepts TLS on this network.",
  },
  TLS_HANDSHAKE: {
    transient: false,
    hint: 'The secure connection could not be set up: the port and its security do not match. Use SSL/TLS for IMAP 993, POP3 995 and SMTP 465, and STARTTLS for SMTP 587, in the email server profile.',
  },
  TLS_REQUIRED: {
    transient: false,
    hint: 'Credentials are only sent over an encrypted connection. Use SSL/TLS (IMAP 993, POP3 995, SMTP 465) or STARTTLS (SMTP 587) in the email server profile.',
  },
  CONNECTION_REFUSED: {
    transient: true,
    hint: `Nothing accepted the connection. Check the server location and port in the email server profile (IMAP 993, POP3 995, SMTP 587 or 465) and that the firewall allows outbound connections. ${RETRY}check those settings.`,
  },
  CONNECTION_RESET: {
    transient: true,
    hint: `The connection was dropped. ${RETRY}check that the port and its security (SSL/TLS or STARTTLS) match in the email server profile.`,
  },
  DNS: {
    transient: false,
    hint: 'The server name could not be resolved. Check Incoming and Outgoing Server Location in the email server profile for typos and that this server can resolve public names.',
  },
  TIMEOUT: {
    transient: true,
    hint: `The server did not answer in time. ${RETRY}check the port and its security in the email server profile (SMTP 465 is SSL/TLS, 587 is STARTTLS) and the firewall.`,
  },
  SMTP_TEMPORARY: {
    transient: true,
    hint: `Gmail is temporarily refusing this sign-in (rate limit). ${RETRY}wait an hour before testing again.`,
  },
  SERVER_TEMPORARY: {
    transient: true,
    hint: `Gmail reported a temporary problem on its side (not a rejected sign-in). ${RETRY}check Google Workspace Status.`,
  },
  CANCELLED: { transient: true, hint: 'The check was stopped before it finished. Select Test & Enable Mailbox again.' },
  UNKNOWN: {
    transient: false,
    hint: 'An unexpected answer stopped the check. Select Test & Enable Mailbox again; if it keeps failing, give the message above to your administrator.',
  },
};

const AUTH_FAILED_PASSWORD =
  'Gmail did not accept the user name and password. Use a Google app password (the account needs 2-Step Verification), not the account password, or switch the email server profile to Gmail OAuth.';

/** The hint for a code; `auth` picks the wording for password logins where it differs. */
export function failure(code: FailureCode, auth?: 'xoauth2' | 'password'): Failure {
  const entry = TABLE[code];
  return {
    code,
    transient: entry.transient,
    hint: code === 'AUTH_FAILED' && auth === 'password' ? AUTH_FAILED_PASSWORD : entry.hint,
  };
}

export const FAILURE_CODES = Object.keys(TABLE) as FailureCode[];
