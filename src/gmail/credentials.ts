// Which OAuth client a mailbox signs in with: its profile's client ID and opened secret, or why it cannot.
import { SEALED } from '../security/secrets.ts';
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { Sealer } from '../security/secrets.ts';
import type { AuthenticateUsing } from '../generated/prisma/enums.ts';
import type { ClientCredentials } from './google-client.ts';

/** The Authenticate Using value the Gmail provider serves. */
export const GMAIL_OAUTH = 'GMAIL_OAUTH' satisfies AuthenticateUsing;

export type ProfileClient = { ok: true; creds: ClientCredentials } | { ok: false; problem: string };

type ProfileFields = Pick<EmailServerProfile, 'name' | 'authenticateUsing' | 'oauthClientId' | 'oauthClientSecret'>;

export function profileClient(sealer: Sealer, profile: ProfileFields | null | undefined): ProfileClient {
  if (!profile)
    return {
      ok: false,
      problem: 'This mailbox has no email server profile. Choose a Gmail OAuth profile for it first.',
    };
  if (profile.authenticateUsing !== GMAIL_OAUTH) {
    return {
      ok: false,
      problem: `The email server profile “${profile.name}” authenticates with a user name and password per mailbox, not Gmail OAuth. Enter the mailbox's credentials instead.`,
    };
  }
  if (!profile.oauthClientId || !profile.oauthClientSecret) {
    return {
      ok: false,
      problem: `The email server profile “${profile.name}” has no OAuth client ID or client secret. Ask your administrator to enter them on the profile.`,
    };
  }
  try {
    return {
      ok: true,
      creds: {
        clientId: profile.oauthClientId,
        clientSecret: sealer.open(profile.oauthClientSecret, SEALED.profileClientSecret),
      },
    };
  } catch {
    return {
      ok: false,
      problem: `The client secret of the email server profile “${profile.name}” cannot be read with the current key. Ask your administrator to enter it again.`,
    };
  }
}
