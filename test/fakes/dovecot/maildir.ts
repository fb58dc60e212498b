// Delivery the way an MTA does it into a Maildir: write in tmp/, then rename into new/ (or cur/ with flags).
// Dovecot's IDLE watches these directories with inotify, so a client idling on the folder hears of it at once.
import { chownSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export type MaildirFlag = '\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft';
const FLAG_LETTERS: Record<MaildirFlag, string> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

export interface Delivered {
  /** The Maildir base name, which Dovecot reports as the message's GUID (`uidOf` finds the UID by it). */
  guid: string;
  messageId?: string;
  /** When the message became visible to Dovecot (the rename). */
  deliveredAt: Date;
}

const host = hostname().replace(/[/:]/g, '_');
let lastMicros = 0;
let seq = 0;

/** Dovecot gives new files their UIDs in file-name time order: keep names strictly increasing within the process. */
function uniqueName(): string {
  const micros = Math.max(Math.floor(performance.timeOrigin * 1000 + performance.now() * 1000), lastMicros + 1);
  lastMicros = micros;
  const sec = Math.floor(micros / 1_000_000);
  return `${sec}.M${micros % 1_000_000}P${process.pid}Q${++seq}.${host}`;
}

/** The Message-ID header of a raw message (folded lines joined), if it has one. */
export function messageIdOf(raw: string | Buffer): string | undefined {
  const text = Buffer.isBuffer(raw) ? raw.subarray(0, 64 * 1024).toString('latin1') : raw.slice(0, 64 * 1024);
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const m = /^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head);
  return m?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim() || undefined;
}

export function writeToMaildir(
  folderDir: string,
  owner: number,
  raw: string | Buffer,
  o: { internalDate?: Date; flags?: MaildirFlag[] } = {},
): Delivered {
  const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  const base = `${uniqueName()},S=${data.length}`;
  const tmp = join(folderDir, 'tmp', base);
  writeFileSync(tmp, data, { mode: 0o600 });
  chownSync(tmp, owner, owner);
  // Maildir's INTERNALDATE is the file's mtime.
  if (o.internalDate) utimesSync(tmp, o.internalDate, o.internalDate);
  const letters = [...new Set((o.flags ?? []).map((f) => FLAG_LETTERS[f]))].sort().join('');
  const target = o.flags?.length ? join(folderDir, 'cur', `${base}:2,${letters}`) : join(folderDir, 'new', base);
  renameSync(tmp, target);
  return { guid: base, messageId: messageIdOf(data), deliveredAt: new Date() };
}
