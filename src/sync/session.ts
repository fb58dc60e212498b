// A mailbox's synchronization while this process owns it: get credentials, run IMAP connections (or POP3 polls) one
// after another, and send every failure through decideFailure: refresh the token once after an XOAUTH2 rejection,
// back off visibly, or stop for good (status Failure, disabled, alert, badge). A connection that worked and then
// dropped is re-opened at once, once a minute at most, before anything is counted as a failure.
import { setTimeout as sleep } from 'node:timers/promises';
import { mapError } from '../mail/errors.ts';
import { providerFor, type CredentialOptions, type CredentialResult } from '../mail/credentials.ts';
import { decideFailure, type SyncFailure } from './health.ts';
import { LeaseLostError } from './ingest.ts';
import { loadSession, sessionFingerprint, type SessionData } from './load.ts';
import { SyncFailureError, YieldedError, type ConnectionContext, type SyncEnv } from './env.ts';
import { runImapConnection } from './imap-session.ts';
import { pollIntervalMs, pollPop3 } from './pop3-session.ts';
import { applyFailure, markHealthy, setState, warnRotation } from './status.ts';

export class MailboxSession {
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  /** What the running connection was built from (null until loaded). */
  fingerprint: string | null = null;

  constructor(
    private readonly env: SyncEnv,
    readonly mailboxId: string,
  ) {
    this.done = this.loop().catch((e) => {
      if (!this.abort.signal.aborted) env.logger.error({ err: e, mailboxId }, 'mailbox session ended unexpectedly');
    });
  }

  /** Closes the connection and resolves once nothing runs for the mailbox any more. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    const { env, mailboxId } = this;
    const signal = this.abort.signal;
    let refreshedAfterAuthFailure = false;
    let refused: string | null = null; // the access token a server refused: refresh it once
    let lastQuickReconnect = 0;
    const skippedUidls = new Set<string>();
    let yielded = false; // gave the slot away last time: waiting again means taking turns (POLLING)
    while (!signal.aborted) {
      const data = await loadSession(env.db, mailboxId);
      if (!data || signal.aborted) return;
      this.fingerprint = sessionFingerprint(data);
      // A backoff decided before (by this process or a previous owner) still holds.
      if (data.sync.state === 'BACKING_OFF' && data.sync.nextAttemptAt && data.sync.nextAttemptAt > new Date()) {
        if (!(await this.pause(data.sync.nextAttemptAt.getTime() - Date.now()))) return;
        continue;
      }
      let wasConnected = false;
      let auth: 'xoauth2' | 'password' = data.profile.authenticateUsing === 'GMAIL_OAUTH' ? 'xoauth2' : 'password';
      let token: string | null = null;
      try {
        const creds = await this.credentials(
          data,
          refused !== null ? { forceRefresh: true, refusedAccessToken: refused } : {},
        );
        refused = null;
        if (!creds.ok) {
          const f = creds.failure;
          throw new SyncFailureError(f.code, f.message, f.hint, f.transient);
        }
        auth = creds.auth.kind;
        token = creds.auth.kind === 'xoauth2' ? creds.auth.accessToken : null;
        const ctx = await this.context(data, creds, yielded, () => {
          wasConnected = true;
          refreshedAfterAuthFailure = false;
        });
        yielded = false;
        if (data.profile.serverType === 'POP3') {
          await pollPop3(ctx, skippedUidls);
          if (!(await this.pause(pollIntervalMs(ctx)))) return;
        } else {
          await runImapConnection(ctx);
        }
      } catch (err) {
        // A refusal of the credentials is recorded even when the provider's own write (a revoked grant disables the
        // mailbox) already asked this session to stop: the stop waits for this, and the reason must be kept.
        if (signal.aborted && !(err instanceof SyncFailureError)) return;
        if (err instanceof YieldedError) {
          yielded = true;
          continue; // queue again behind the waiter; new mail is caught up by UID
        }
        if (err instanceof LeaseLostError) return; // the ownership stops this session too
        const failure = classify(err, auth, data.profile.serverType === 'POP3' ? 'pop3' : 'imap');
        if (wasConnected && failure.transient && Date.now() - lastQuickReconnect > env.settings.quickReconnectMs) {
          lastQuickReconnect = Date.now();
          env.logger.info({ mailboxId, code: failure.code }, 'connection dropped; reconnecting');
          continue;
        }
        const decision = decideFailure({
          failure,
          auth,
          retryCount: (await env.db.prisma.mailboxSync.findUnique({ where: { mailboxId } }))?.retryCount ?? 0,
          refreshedAfterAuthFailure,
          now: new Date(),
          policy: env.settings.retry,
        });
        if (decision.action === 'refresh-token') {
          refreshedAfterAuthFailure = true;
          refused = token ?? '';
          continue;
        }
        refreshedAfterAuthFailure = false;
        const owned = await applyFailure(env, mailboxId, data.profile.id, failure, decision);
        if (!owned || decision.action === 'stop') return;
        if (!(await this.pause(decision.nextAttemptAt.getTime() - Date.now()))) return;
      }
    }
  }

  private credentials(data: SessionData, opts: CredentialOptions): Promise<CredentialResult> {
    return providerFor(this.env.providers, data.profile).credentials(data.mailbox, opts);
  }

  private async context(
    data: SessionData,
    creds: CredentialResult & { ok: true },
    afterYield: boolean,
    onConnected: () => void,
  ) {
    const { env, mailboxId } = this;
    const grant =
      creds.auth.kind === 'xoauth2'
        ? await env.db.prisma.gmailGrant.findUnique({ where: { mailboxId }, select: { accessTokenExpiresAt: true } })
        : null;
    const ctx: ConnectionContext = {
      env,
      data,
      auth: creds.auth,
      tokenExpiresAt: grant?.accessTokenExpiresAt ?? null,
      signal: this.abort.signal,
      connected: async (state) => {
        onConnected();
        await markHealthy(env, mailboxId, state);
      },
      refresh: () => this.credentials(data, { minValidityMs: env.settings.refreshAheadMs + 60_000 }),
      waiting: async (state) => {
        // Gave the slot away and must wait again: when the profile has more mailboxes than connections, they take
        // turns (POLLING, and a WARNING on the profile); otherwise it was lent to Test & Enable for a moment.
        const rotating =
          afterYield &&
          (await warnRotation(env, data.profile.id).catch((e) => {
            env.logger.warn({ err: e, profileId: data.profile.id }, 'could not check the profile for rotation');
            return false;
          }));
        await setState(env, mailboxId, rotating ? 'POLLING' : state);
      },
    };
    return ctx;
  }

  /** Waits, unless stopped meanwhile (false). */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(Math.max(0, ms), undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }
}

function classify(err: unknown, auth: 'xoauth2' | 'password', protocol: 'imap' | 'pop3'): SyncFailure {
  if (err instanceof SyncFailureError)
    return { code: err.code, message: err.message, hint: err.hint, transient: err.transient };
  const m = mapError(err, { protocol, auth });
  return { code: m.code, message: m.message, hint: m.hint, transient: m.transient };
}
