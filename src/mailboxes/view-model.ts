// What mailbox views are handed: plain fields only, never a sealed password or token.
import type { MailboxDetail } from './access.ts';

export function mailboxView(m: MailboxDetail) {
  const { credentialPassword, grant, profile, ...rest } = m;
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
      hasRefreshToken: !!grant.refreshToken,
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
