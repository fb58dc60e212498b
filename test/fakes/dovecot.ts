// Real Dovecot (Debian's dovecot-imapd/dovecot-pop3d) for synchronization tests and benchmarks (see ./dovecot/).
export { startDovecot } from './dovecot/server.ts';
export type { DeliverOptions, DovecotServer, Endpoint, FolderMessage, StartDovecotOptions } from './dovecot/server.ts';
export type { Delivered, MaildirFlag } from './dovecot/maildir.ts';
export { GMAIL_FOLDERS, GMAIL_SENT } from './dovecot/gmail.ts';
