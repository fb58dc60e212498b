// What mailbox views are handed: plain fields only, never a sealed password or token.
import type { MailboxDetail } from './access.ts';
import { signInRequired, testingExpiry } from './grant-health.ts';

export function mailboxView(m: MailboxDetail, now = new Date()) {
  const { credentialPassword, grant, profile, ...rest } = m;
  const hasRefreshToken = !!grant?.refreshToken;
  return {
    ...rest,
    hasCredentialPassword: !!credentialPassword,
    profile: profile && {
      id: profile.id,
      name: profile.name,
      authenticateUsing: profile.authenticateUsing,
      serverType: profile.serverType,
    },
    grant: grant && {
      googleEmail: grant.googleEmail,
      grantedScopes: grant.grantedScopes,
      issuedAt: grant.issuedAt,
      refreshedAt: grant.refreshedAt,
      accessTokenExpiresAt: grant.accessTokenExpiresAt,
      needsReconsent: grant.needsReconsent,
      hasRefreshToken,
      refreshTokenIssuedAt: grant.refreshTokenIssuedAt,
      /** Google refused this sign-in (invalid_grant): Sign in to Gmail again. */
      signInRequired: signInRequired(grant),
      /** The profile's Google app is in Testing status: when this sign-in ends. */
      testing: testingExpiry(!!profile?.googleAppInTesting, { ...grant, hasRefreshToken }, now),
    },
  };
}
export type MailboxView = ReturnType<typeof mailboxView>;

/** The form's starting values for an existing mailbox (the password is never shown). */
export function editValues(m: MailboxDetail): Record<string, string> {
  return {
    name: m.name,
    emailAddress: m.emailAddress,
    ownerId: m.ownerId,
    profileId: m.profileId ?? '',
    incomingEmail: m.incomingEmail,
    outgoingEmail: m.outgoingEmail,
    credentialUsername: m.credentialUsername ?? '',
  };
}
