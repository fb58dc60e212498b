// What every session of this process shares: the database, the connection semaphore, the credentials providers,
// the mail servers' extra CA, this process's id (the ownership fence) and the engine's settings.
import type { ConnectionSemaphore } from '../cluster/semaphore.ts';
import type { CredentialProviders, CredentialResult } from '../mail/credentials.ts';
import type { MailAuth } from '../mail/types.ts';
import type { SessionData } from './load.ts';
import type { SyncSettings } from './settings.ts';
import type { StatusDeps } from './status.ts';

export interface SyncEnv extends StatusDeps {
  semaphore: ConnectionSemaphore;
  providers: CredentialProviders;
  ca?: string | Buffer;
  settings: SyncSettings;
}

/** One connection's (or one poll's) view: what the session loaded, its credentials, and how to report. */
export interface ConnectionContext {
  env: SyncEnv;
  data: SessionData;
  auth: MailAuth;
  /** When the access token expires (XOAUTH2), to refresh it ahead while connected. */
  tokenExpiresAt: Date | null;
  signal: AbortSignal;
  /** The server accepted the login and the mailbox is open (or a poll passed): clears backoff, writes the state. */
  connected(state: 'CONNECTED' | 'POLLING'): Promise<void>;
  /** Refreshes the access token now (shared per-mailbox refresh); a refusal is a result. */
  refresh(): Promise<CredentialResult>;
  /** Writes the state shown while waiting for a connection slot. */
  waiting(state: 'WAITING' | 'POLLING'): Promise<void>;
}

/** A failure already classified (the credentials provider's refusal, or a session's own). */
export class SyncFailureError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Thrown inside a session to hand its connection slot to a waiter; the runner reconnects at once afterwards. */
export class YieldedError extends Error {
  constructor() {
    super('Gave the connection slot to a waiting connection.');
  }
}
