// Verify client: before any user signs in, ask Google's token endpoint whether a Gmail OAuth profile's Client Id and
// Client Secret are right (a made-up code: invalid_client means wrong, invalid_grant means right; gmail/google-client).
// The verdict is stored on the profile with its time and audited; a save that changes the id or secret runs it.
import type { EmailServerProfile, PrismaClient } from '../generated/prisma/client.ts';
import type { AppDeps } from '../deps.ts';
import { SEALED, type Sealer } from '../security/secrets.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import { gmailRedirectUri } from './redirect-uri.ts';

export type ClientVerdict = Awaited<ReturnType<AppDeps['google']['verifyClient']>>;

export const VERDICT_LABELS: Record<string, string> = {
  VALID: 'Correct',
  INVALID: 'Wrong Client Id or Client Secret',
  TEMPORARY: 'Not known: Google had a temporary problem',
  UNREACHABLE: 'Not known: Google could not be reached',
  UNEXPECTED: 'Not known: unexpected answer',
};

export interface VerifyDeps {
  prisma: PrismaClient;
  sealer: Sealer;
  google: AppDeps['google'];
  publicUrl: string;
}

/** Whether a save changed what Verify client checks (so it runs again on its own). */
export function clientChanged(before: EmailServerProfile | null, after: EmailServerProfile): boolean {
  return (
    !before || before.oauthClientId !== after.oauthClientId || before.oauthClientSecret !== after.oauthClientSecret
  );
}

/** Checks the profile's client at Google, stores and audits the verdict; null when it has no client to check. */
export async function verifyClient(
  d: VerifyDeps,
  profile: EmailServerProfile,
  who: Pick<AuditEntry, 'actor' | 'ip'>,
  trigger: 'manual' | 'client-changed',
): Promise<ClientVerdict | null> {
  if (profile.authenticateUsing !== 'GMAIL_OAUTH' || !profile.oauthClientId || !profile.oauthClientSecret) {
    // What was verified is gone: a stale "Correct" must not stay on the page.
    if (profile.clientVerifiedAt) await store(d.prisma, profile.id, null);
    return null;
  }
  let verdict: ClientVerdict;
  try {
    const clientSecret = d.sealer.open(profile.oauthClientSecret, SEALED.profileClientSecret);
    verdict = await d.google.verifyClient(
      { clientId: profile.oauthClientId, clientSecret },
      gmailRedirectUri(d.publicUrl),
    );
  } catch {
    verdict = {
      result: 'UNEXPECTED',
      message: 'The stored Client Secret cannot be read with the current key. Enter it again, then verify.',
    };
  }
  await store(d.prisma, profile.id, verdict);
  await audit(d.prisma, {
    action: 'profile.verify-client',
    targetType: 'EmailServerProfile',
    targetId: profile.id,
    result: verdict.result === 'VALID' ? 'SUCCESS' : 'FAILURE',
    ...who,
    details: { name: profile.name, verdict: verdict.result, trigger, googleError: verdict.googleError ?? null },
  });
  return verdict;
}

/** Written without touching Modified On: a verification is not an edit of the profile. */
async function store(prisma: PrismaClient, id: string, v: ClientVerdict | null): Promise<void> {
  await prisma.$executeRawUnsafe(
    `UPDATE "EmailServerProfile" SET "clientVerifiedAt" = $2, "clientVerifiedResult" = $3, "clientVerifiedMessage" = $4
     WHERE id = $1`,
    id,
    v ? new Date() : null,
    v?.result ?? null,
    v?.message ?? null,
  );
}
