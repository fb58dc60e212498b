// Gmail's folder layout over IMAP: INBOX plus the "[Gmail]" hierarchy, with the SPECIAL-USE flags Gmail announces.
// Issue 12 matches sent mail in "[Gmail]/Sent Mail"; a sync engine should find it by \Sent, as with Gmail.

export const GMAIL_FOLDERS: ReadonlyArray<{ name: string; specialUse?: string }> = [
  { name: '[Gmail]/All Mail', specialUse: '\\All' },
  { name: '[Gmail]/Drafts', specialUse: '\\Drafts' },
  { name: '[Gmail]/Important' }, // Gmail flags it \Important, which is not an RFC 6154 flag Dovecot accepts
  { name: '[Gmail]/Sent Mail', specialUse: '\\Sent' },
  { name: '[Gmail]/Spam', specialUse: '\\Junk' },
  { name: '[Gmail]/Starred', specialUse: '\\Flagged' },
  { name: '[Gmail]/Trash', specialUse: '\\Trash' },
];

export const GMAIL_SENT = '[Gmail]/Sent Mail';

/** Namespace settings that give the folders their flags once created (none is created for every user). */
export function renderGmailMailboxes(): string {
  return GMAIL_FOLDERS.filter((f) => f.specialUse)
    .map((f) => `  mailbox "${f.name}" {\n    special_use = ${f.specialUse}\n  }\n`)
    .join('');
}
