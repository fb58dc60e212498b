// The audit log as people read it: each target by name (a mailbox by name and address, a profile by name, a user by
// email), the actor by email, and the details as labelled fields instead of raw JSON. Names are looked up for the
// page's rows only (three queries at most); a deleted target falls back to what its entry recorded, then to its id.
import type { AuditEvent, PrismaClient } from '../generated/prisma/client.ts';

type Lookup = Map<string, { name: string; href: string }>;
interface Names {
  Mailbox: Lookup;
  EmailServerProfile: Lookup;
  User: Lookup;
}

const TYPE_LABEL: Record<string, string> = {
  Mailbox: 'Mailbox',
  EmailServerProfile: 'Email Server Profile',
  User: 'User',
  MailboxImport: 'Mailbox import',
};

/** Detail keys that hold the id of something with a name. */
const ID_KEYS: Record<string, keyof Names> = { mailboxId: 'Mailbox', profileId: 'EmailServerProfile', ownerId: 'User' };

const LABELS: Record<string, string> = {
  googleEmail: 'Google account',
  emailAddress: 'Email address',
  ownerId: 'Owner',
  profileId: 'Server profile',
  mailboxId: 'Mailbox',
  changed: 'Changed',
  revoked: 'Google access',
  incomingStatus: 'Incoming Email Status',
  outgoingStatus: 'Outgoing Email Status',
  enabledForIncoming: 'Enabled for incoming',
  enabledForOutgoing: 'Enabled for outgoing',
  ip: 'IP',
};

/** "needsReconsent" → "Needs reconsent". */
export function humanize(key: string): string {
  if (LABELS[key]) return LABELS[key];
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function value(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (Array.isArray(v)) return v.length ? v.map(value).join(', ') : '—';
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${humanize(k)}: ${value(x)}`)
      .join('; ');
  return String(v);
}

export interface DetailField {
  label: string;
  value: string;
}

/** An entry's details as labelled fields; ids of mailboxes, profiles and users become their names. */
export function readableDetails(details: unknown, names?: Names): DetailField[] {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return [];
  return Object.entries(details as Record<string, unknown>).map(([k, v]) => {
    const type = ID_KEYS[k];
    const named = type && typeof v === 'string' ? names?.[type].get(v)?.name : undefined;
    return { label: humanize(k), value: named ?? value(v) };
  });
}

async function lookUp(prisma: PrismaClient, events: AuditEvent[]): Promise<Names> {
  const ids: Record<keyof Names, Set<string>> = { Mailbox: new Set(), EmailServerProfile: new Set(), User: new Set() };
  for (const e of events) {
    if (e.targetId && e.targetType && e.targetType in ids) ids[e.targetType as keyof Names].add(e.targetId);
    if (e.actorId && !e.actorEmail) ids.User.add(e.actorId);
    const d = (e.details ?? {}) as Record<string, unknown>;
    for (const [k, type] of Object.entries(ID_KEYS)) if (typeof d[k] === 'string') ids[type].add(d[k] as string);
  }
  const [mailboxes, profiles, users] = await Promise.all([
    ids.Mailbox.size
      ? prisma.mailbox.findMany({
          where: { id: { in: [...ids.Mailbox] } },
          select: { id: true, name: true, emailAddress: true },
        })
      : [],
    ids.EmailServerProfile.size
      ? prisma.emailServerProfile.findMany({
          where: { id: { in: [...ids.EmailServerProfile] } },
          select: { id: true, name: true },
        })
      : [],
    ids.User.size
      ? prisma.user.findMany({ where: { id: { in: [...ids.User] } }, select: { id: true, name: true, email: true } })
      : [],
  ]);
  return {
    Mailbox: new Map(
      mailboxes.map((m) => [m.id, { name: `${m.name} <${m.emailAddress}>`, href: `/mailboxes/${m.id}` }]),
    ),
    EmailServerProfile: new Map(profiles.map((p) => [p.id, { name: p.name, href: `/profiles/${p.id}` }])),
    User: new Map(users.map((u) => [u.id, { name: u.email, href: '/admin/users' }])),
  };
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  ip: string | null;
  action: string;
  result: string;
  target: { type: string; name: string | null; href: string | null; id: string | null } | null;
  details: DetailField[];
}

/** What a deleted target's entry recorded about it (its address or name), so the log still reads. */
function recordedName(e: AuditEvent): string | null {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : null);
  return s('emailAddress') ?? s('name') ?? s('email') ?? s('fileName');
}

export async function auditRows(prisma: PrismaClient, events: AuditEvent[]): Promise<AuditRow[]> {
  const names = await lookUp(prisma, events);
  return events.map((e) => {
    const found = e.targetId && e.targetType ? names[e.targetType as keyof Names]?.get(e.targetId) : undefined;
    return {
      id: e.id,
      at: e.at,
      actor: e.actorEmail ?? (e.actorId ? (names.User.get(e.actorId)?.name ?? 'a deleted user') : 'Mailroom'),
      ip: e.ip,
      action: e.action,
      result: e.result,
      target: e.targetType
        ? {
            type: TYPE_LABEL[e.targetType] ?? e.targetType,
            name: found?.name ?? recordedName(e),
            href: found?.href ?? null,
            id: e.targetId,
          }
        : null,
      details: readableDetails(e.details, names),
    };
  });
}
