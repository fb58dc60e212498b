// An alert as a row of a list (the Alerts page, a profile's record): plain, pre-formatted fields only.
import type { AlertLevel } from '../generated/prisma/client.ts';
import { alertTime, LEVEL, levelTone } from './labels.ts';

export const alertRowSelect = {
  id: true,
  level: true,
  code: true,
  message: true,
  hint: true,
  createdAt: true,
  profile: { select: { id: true, name: true } },
  mailbox: { select: { id: true, name: true, profile: { select: { id: true, name: true } } } },
} as const;

export interface AlertRowData {
  id: string;
  level: AlertLevel;
  code: string;
  message: string;
  hint: string;
  createdAt: Date;
  profile: { id: string; name: string } | null;
  mailbox: { id: string; name: string; profile: { id: string; name: string } | null } | null;
}

export function alertRow(a: AlertRowData, o: { linkProfiles: boolean }) {
  // A mailbox's alert belongs to the mailbox's profile too, so the Profile column is filled for both kinds.
  const profile = a.profile ?? a.mailbox?.profile ?? null;
  return {
    id: a.id,
    time: alertTime(a.createdAt),
    timeIso: a.createdAt.toISOString(),
    level: LEVEL[a.level],
    tone: levelTone(a.level),
    code: a.code,
    message: a.message,
    hint: a.hint,
    profile: profile && { name: profile.name, href: o.linkProfiles ? `/profiles/${profile.id}` : null },
    mailbox: a.mailbox && { name: a.mailbox.name, href: `/mailboxes/${a.mailbox.id}` },
  };
}
export type AlertRow = ReturnType<typeof alertRow>;
