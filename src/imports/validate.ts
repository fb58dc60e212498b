// The preview's check of each imported row, as a pure function of the rows and what the database holds: the same
// form rules as the mailbox page (mailboxFormSchema), then owner, profile, the address (taken in the file or in
// Mailroom), and each profile's capacity (100 per Gmail OAuth profile) counting the rows before it.
import { mailboxFormSchema, type MailboxInput } from '../mailboxes/form.ts';
import { SYNC_METHOD } from '../mailboxes/labels.ts';
import type { CsvRow } from './csv.ts';

export interface Lookup {
  /** Active users by lower-case email. */
  owners: Map<string, string>;
  /** Profiles by lower-case name: id, name, capacity (null: none) and mailboxes they serve now. */
  profiles: Map<string, { id: string; name: string; capacity: number | null; used: number; method: string }>;
  /** Lower-case addresses that already have a mailbox. */
  existing: Set<string>;
}

export type RowStatus = 'PENDING' | 'EXISTS' | 'INVALID';
export interface Checked extends CsvRow {
  status: RowStatus;
  reason: string | null;
}

const methodKey = (v: string) => v.toLowerCase().replace(/[^a-z]/g, '');
const METHODS = new Map<string, string>(
  Object.entries(SYNC_METHOD).flatMap(([value, label]) => [
    [methodKey(value), value],
    [methodKey(label), value],
  ]),
);

/** A sync method from its label or value ("Server-Side Synchronization", "SERVER_SIDE_SYNC"); blank: the form's default. */
export function syncMethod(v: string): string | null {
  if (!v.trim()) return 'SERVER_SIDE_SYNC';
  return METHODS.get(methodKey(v)) ?? null;
}

/** The form input a row stands for (owner and profile resolved), or why not. */
export function rowInput(row: CsvRow, lookup: Lookup): { input: MailboxInput; ownerId: string } | { reason: string } {
  const incoming = syncMethod(row.incomingEmail);
  const outgoing = syncMethod(row.outgoingEmail);
  const methods = 'use None, Server-Side Synchronization or Email Router';
  if (!incoming) return { reason: `Incoming Email “${row.incomingEmail}” is not a method: ${methods}.` };
  if (!outgoing) return { reason: `Outgoing Email “${row.outgoingEmail}” is not a method: ${methods}.` };
  const ownerId = lookup.owners.get(row.ownerEmail.toLowerCase());
  if (!row.ownerEmail) return { reason: 'Owner Email is empty: name the user who owns the mailbox.' };
  if (!ownerId) return { reason: `Unknown owner: no active user has the email ${row.ownerEmail}.` };
  const profile = lookup.profiles.get(row.profileName.toLowerCase());
  if (!row.profileName) return { reason: 'Server Profile is empty: name an email server profile.' };
  if (!profile) return { reason: `Unknown email server profile “${row.profileName}”.` };
  const parsed = mailboxFormSchema.safeParse({
    name: row.name,
    emailAddress: row.emailAddress,
    ownerId,
    profileId: profile.id,
    incomingEmail: incoming,
    outgoingEmail: outgoing,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const column = { name: 'Name', emailAddress: 'Email Address' }[String(issue.path[0])] ?? String(issue.path[0]);
    return { reason: `${column}: ${issue.message}.` };
  }
  return { input: parsed.data, ownerId };
}

export function checkRows(rows: CsvRow[], lookup: Lookup): Checked[] {
  const seen = new Map<string, number>(); // address → the line that has it first
  const used = new Map([...lookup.profiles.values()].map((p) => [p.id, p.used]));
  return rows.map((row) => {
    const bad = (reason: string): Checked => ({ ...row, status: 'INVALID', reason });
    const r = rowInput(row, lookup);
    if ('reason' in r) return bad(r.reason);
    const address = r.input.emailAddress;
    const first = seen.get(address);
    if (first !== undefined) return bad(`Duplicate address: line ${first} of this file has ${address} too.`);
    seen.set(address, row.line);
    if (lookup.existing.has(address))
      return { ...row, status: 'EXISTS', reason: 'A mailbox with this email address already exists: skipped.' };
    const profile = lookup.profiles.get(row.profileName.toLowerCase())!;
    const n = used.get(profile.id) ?? 0;
    if (profile.capacity !== null && n >= profile.capacity)
      return bad(
        `The email server profile “${profile.name}” would serve more than ${profile.capacity} mailboxes, the most one ${profile.method} client should. Create another ${profile.method} email server profile for the rest.`,
      );
    used.set(profile.id, n + 1);
    return { ...row, status: 'PENDING', reason: null };
  });
}
