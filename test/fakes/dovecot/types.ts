// Public types of the Dovecot harness (startDovecot in ./server.ts).
import type { TestCa } from '../mail/tls.ts';
import type { Delivered, MaildirFlag } from './maildir.ts';

export interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
}

export interface FolderMessage {
  uid: number;
  flags: string[];
  messageId?: string;
  internalDate: Date;
  size: number;
  guid: string;
}

export interface DeliverOptions {
  folder?: string;
  internalDate?: Date;
  flags?: MaildirFlag[];
}

export interface StartDovecotOptions {
  /** The Google fake (or its tokeninfo URL's owner): every XOAUTH2/OAUTHBEARER login asks it. */
  google: { endpoints: { tokeninfo: string } };
  /** TLS material; default: this process's test CA, the one the scripted mail servers use. */
  ca?: TestCa;
  /**
   * Move IDLE connections to Dovecot's one imap-hibernate process after this many seconds (default 1; 0 = never,
   * each connection keeps its own imap process: ~5 MB RSS each, and new mail is announced ~0.5 s later).
   */
  hibernateSeconds?: number;
  startTimeoutMs?: number;
}

export interface DovecotServer {
  /** IMAP with implicit TLS (imap.gmail.com:993-style). */
  imap: Endpoint;
  /** Plain IMAP that offers STARTTLS. */
  imapStarttls: Endpoint;
  /** POP3 with implicit TLS (pop.gmail.com:995-style). */
  pop3: Endpoint;
  /** The CA that signed the server certificate: pass as the app's `mailTlsCa`; `caFile` for other processes. */
  ca: string;
  caFile: string;
  dir: string;
  pid: number;
  /** How long start-up took (config, TLS files, master up and listening). */
  startMs: number;
  /** Creates a mail user (idempotent; a later call changes the password). `gmail` also creates Gmail's folders. */
  addUser(email: string, o?: { password?: string; gmail?: boolean }): Promise<void>;
  /** Drops a message into a folder as an MTA would; an IDLE client is told in ~20 ms (hibernated) or ~0.5 s. */
  deliver(email: string, raw: string | Buffer, o?: DeliverOptions): Promise<Delivered>;
  /** The UID Dovecot gave a delivered message (assigns it now if no client has looked yet). */
  uidOf(email: string, delivered: Pick<Delivered, 'guid'>, folder?: string): Promise<number>;
  createFolder(email: string, name: string): Promise<void>;
  /** The user's folders, as LIST shows them. */
  folders(email: string): Promise<string[]>;
  listFolder(email: string, folder?: string): Promise<FolderMessage[]>;
  uidValidity(email: string, folder?: string): Promise<number>;
  /** Gives the folder a new, higher UIDVALIDITY (UIDs stay); kicks the user's sessions unless `kick: false`. */
  changeUidValidity(email: string, folder?: string, o?: { kick?: boolean }): Promise<number>;
  /** Drops every IMAP and POP3 connection of the user (`doveadm kick`); resolves with whether there was one. */
  kick(email: string): Promise<boolean>;
  /** Logged-in IMAP/POP3 connections of the user (or of everyone), as Dovecot's anvil counts them. */
  connections(email?: string): Promise<number>;
  /** How many of the user's connections are IDLE in Dovecot's imap-hibernate process (see `hibernateSeconds`). */
  hibernated(email: string): Promise<number>;
  /** The Dovecot processes serving this user's connections (`doveadm who`), for diagnostics. */
  whoPids(email: string): Promise<number[]>;
  /** Error, Fatal and Panic lines Dovecot logged (tests assert there are none). */
  errors(): string[];
  log(): string;
  stop(): Promise<void>;
}
