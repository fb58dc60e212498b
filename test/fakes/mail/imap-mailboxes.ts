// The IMAP fake's mailbox answers (LIST/XLIST/LSUB, SELECT/EXAMINE, STATUS) shaped like Gmail's.
import { matchesPattern, q, type ImapValue } from './imap-parse.ts';
import type { MailAccountBehaviour } from './world.ts';

interface Folder {
  name: string;
  flags: string[];
  selectable: boolean;
}

const FOLDERS: Folder[] = [
  { name: 'INBOX', flags: ['\\HasNoChildren'], selectable: true },
  { name: '[Gmail]', flags: ['\\HasChildren', '\\Noselect'], selectable: false },
  { name: '[Gmail]/All Mail', flags: ['\\All', '\\HasNoChildren'], selectable: true },
  { name: '[Gmail]/Sent Mail', flags: ['\\HasNoChildren', '\\Sent'], selectable: true },
  { name: '[Gmail]/Trash', flags: ['\\HasNoChildren', '\\Trash'], selectable: true },
];

const str = (v: ImapValue | undefined): string => (typeof v === 'string' ? v : '');

/** Untagged lines for LIST/XLIST/LSUB; args may start with a selection list and end with RETURN (…). */
export function listLines(command: 'LIST' | 'XLIST' | 'LSUB', args: ImapValue[]): string[] {
  const rest = Array.isArray(args[0]) ? args.slice(1) : args;
  const reference = str(rest[0]);
  const pattern = str(rest[1]);
  const returnOpts = rest[2] === 'RETURN' && Array.isArray(rest[3]) ? rest[3].map((o) => str(o).toUpperCase()) : [];
  if (pattern === '') return [`* ${command} (\\Noselect) "/" ""`];
  return FOLDERS.filter((f) => matchesPattern(f.name, reference + pattern)).map((f) => {
    const flags = [...f.flags];
    if (command === 'XLIST' && f.name === 'INBOX') flags.push('\\Inbox');
    if (returnOpts.includes('SUBSCRIBED') || command === 'LSUB') flags.push('\\Subscribed');
    return `* ${command} (${flags.join(' ')}) "/" ${q(f.name)}`;
  });
}

export function findFolder(name: string): Folder | undefined {
  return FOLDERS.find((f) => f.selectable && (f.name === name || (/^inbox$/i.test(name) && f.name === 'INBOX')));
}

const FLAGS = '\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing';

export function selectLines(account: MailAccountBehaviour, folder: string): string[] {
  const exists = folder === 'INBOX' ? (account.messages ?? 0) : 0;
  return [
    `* FLAGS (${FLAGS})`,
    `* OK [PERMANENTFLAGS (${FLAGS} \\*)] Flags permitted.`,
    '* OK [UIDVALIDITY 3] UIDs valid.',
    `* ${exists} EXISTS`,
    '* 0 RECENT',
    `* OK [UIDNEXT ${exists + 1}] Predicted next UID.`,
    '* OK [HIGHESTMODSEQ 4242]',
  ];
}

export function statusLine(account: MailAccountBehaviour, folder: string, items: ImapValue | undefined): string {
  const exists = folder === 'INBOX' ? (account.messages ?? 0) : 0;
  const values: Record<string, number> = {
    MESSAGES: exists,
    RECENT: 0,
    UIDNEXT: exists + 1,
    UIDVALIDITY: 3,
    UNSEEN: 0,
    HIGHESTMODSEQ: 4242,
  };
  const wanted = Array.isArray(items) ? items.map((i) => str(i).toUpperCase()).filter((i) => i in values) : [];
  return `* STATUS ${q(folder)} (${wanted.map((w) => `${w} ${values[w]}`).join(' ')})`;
}
