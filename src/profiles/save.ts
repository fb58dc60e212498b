// Saving a profile from any door (the pages, the API): the service's create or update, then, when the Client Id or
// Client Secret changed, Verify client at Google at once, before anyone signs in with it. One rule, two callers.
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { AuditEntry } from '../security/audit.ts';
import { createProfile, updateProfile, type ProfileDeps, type ProfileInput } from './service.ts';
import { clientChanged, verifyClient, type ClientVerdict, type VerifyDeps } from './verify-client.ts';

type Who = Pick<AuditEntry, 'actor' | 'ip'>;
export type SaveDeps = ProfileDeps & VerifyDeps;

export async function createAndVerify(
  deps: SaveDeps,
  input: ProfileInput,
  who: Who,
): Promise<{ profile: EmailServerProfile; verdict: ClientVerdict | null }> {
  const profile = await createProfile(deps, input, who);
  return { profile, verdict: await verifyClient(deps, profile, who, 'client-changed') };
}

/** Null when the profile no longer exists. */
export async function updateAndVerify(
  deps: SaveDeps,
  before: EmailServerProfile,
  input: ProfileInput,
  who: Who,
): Promise<{ profile: EmailServerProfile; changed: string[]; verdict: ClientVerdict | null } | null> {
  const saved = await updateProfile(deps, before.id, input, who);
  if (!saved) return null;
  const verdict = clientChanged(before, saved.profile)
    ? await verifyClient(deps, saved.profile, who, 'client-changed')
    : null;
  return { ...saved, verdict };
}
