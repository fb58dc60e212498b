// Which profile fields a save changes: names only, for the audit log ("profile.update" details) and no-op saves.
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { ProfileData } from './form.ts';

const same = (a: unknown, b: unknown) =>
  a instanceof Date || b instanceof Date ? (a as Date | null)?.getTime() === (b as Date | null)?.getTime() : a === b;

export function changedFields(before: EmailServerProfile, after: ProfileData): string[] {
  return (Object.keys(after) as (keyof ProfileData)[]).filter((k) => !same(before[k], after[k]));
}
