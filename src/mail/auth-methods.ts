// The fixed facts of each Authenticate Using value, for the rules and pages that never talk to a provider: its label,
// whether a profile holds an OAuth client, how many mailboxes one profile serves, and the panel the mailbox record
// shows. The runtime half (tokens, passwords) is the CredentialProvider registered for the same value.
import type { AuthenticateUsing } from '../generated/prisma/enums.ts';

export interface AuthMethod {
  label: string;
  /** The profile holds an OAuth client (Client Id and Client Secret) and shows its redirect URI. */
  oauthClient: boolean;
  /** The most mailboxes one profile may serve (one OAuth client should not serve more); null: no limit. */
  mailboxCapacity: number | null;
  /** Each mailbox stores its own User Name and Password. */
  credentialsPerMailbox: boolean;
  /** The mailbox record's sign-in panel: views/mailboxes/_<panel>.ejs. */
  mailboxPanel: string;
}

/** How many mailboxes one Gmail OAuth profile serves (the "N of 100" shown beside its usage). */
export const GMAIL_PROFILE_CAPACITY = 100;

export const AUTH_METHODS: Readonly<Record<AuthenticateUsing, AuthMethod>> = {
  GMAIL_OAUTH: {
    label: 'Gmail OAuth',
    oauthClient: true,
    mailboxCapacity: GMAIL_PROFILE_CAPACITY,
    credentialsPerMailbox: false,
    mailboxPanel: 'gmail',
  },
  CREDENTIALS_PER_MAILBOX: {
    label: 'Credentials Specified by a User or Queue',
    oauthClient: false,
    mailboxCapacity: null,
    credentialsPerMailbox: true,
    mailboxPanel: 'credentials',
  },
};

export function authMethod(profile: { authenticateUsing: AuthenticateUsing }): AuthMethod {
  return AUTH_METHODS[profile.authenticateUsing];
}
