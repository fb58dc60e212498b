// One IMAP connection of a mailbox's synchronization: take a yieldable connection slot, sign in (XOAUTH2 or the
// mailbox's password), SELECT INBOX, check UIDVALIDITY, then loop: fetch new mail by UID, one batch of the first
// synchronization (newest first), IDLE until the server announces mail, the safety check is due, the token needs
// refreshing, a waiter asks for the slot or the session stops. Returns only when stopped; throws on any failure
// (classified by the runner) and YieldedError when it gave its slot away.
import type { ImapFlow } from 'imapflow';
import { connectionClaims } from './connections.ts';
import { currentCap, incomingServer } from './load.ts';
import { trustOptions } from '../mail/tls.ts';
import type { Endpoint } from '../mail/types.ts';
import type { Permit } from '../cluster/semaphore.ts';
import { firstSyncBoundary, readCursor, resetCursor } from './cursor.ts';
import { SyncFailureError, YieldedError, type ConnectionContext } from './env.ts';
import { fetchBackfillBatch, fetchNewMail, type ImapCursor } from './imap-fetch.ts';
import { ingest } from './ingest.ts';

export async function runImapConnection(ctx: ConnectionContext): Promise<void> {
  const { env, data, auth, signal } = ctx;
  const endpoint = incomingServer(data.profile);
  const claims = connectionClaims({
    profileId: data.profile.id,
    maxConcurrentConnections: () => currentCap(env, data.profile.id, data.profile.maxConcurrentConnections),
    protocol: 'imap',
    host: endpoint.host,
    login: auth.user,
  });
  const opts = { purpose: `sync:${data.mailbox.id}`, signal, yieldable: true };
  let permit = await env.semaphore.tryAcquire(claims, opts);
  if (!permit) {
    await ctx.waiting('WAITING');
    permit = await env.semaphore.acquire(claims, opts);
  }
  const session = new ImapSession(ctx, permit);
  try {
    await session.run(endpoint);
  } finally {
    await session.close();
    await permit.release();
  }
  session.rethrow(); // a refresh refused while the session was being stopped still stops the mailbox
}

class ImapSession {
  private client: ImapFlow | undefined;
  private dirty = true;
  private inIdle = false;
  private yieldAsked = false;
  private yieldTimer = false;
  private connectedAt = 0;
  private fatal: unknown;
  private closedError: Error | undefined;
  private timers: NodeJS.Timeout[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshFailures = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly ctx: ConnectionContext,
    permit: Permit,
  ) {
    permit.onYieldRequested(() => {
      this.yieldAsked = true;
      this.wake();
    });
  }

  async run(endpoint: Endpoint): Promise<void> {
    const { env, auth, signal } = this.ctx;
    const s = env.settings;
    const { ImapFlow: Client } = await import('imapflow'); // loaded by the first session, not at start (decision 035)
    const client = new Client({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      // Never send credentials in clear: a non-TLS port must upgrade with STARTTLS.
      doSTARTTLS: endpoint.secure ? undefined : true,
      auth:
        auth.kind === 'xoauth2'
          ? { user: auth.user, accessToken: auth.accessToken }
          : { user: auth.user, pass: auth.password },
      tls: trustOptions(env.ca),
      logger: false,
      connectionTimeout: s.connectTimeoutMs,
      greetingTimeout: s.connectTimeoutMs,
      socketTimeout: Math.max(10 * 60_000, s.safetyCheckMs * 3),
      disableAutoIdle: true,
      disableCompression: true,
      maxIdleTime: s.maxIdleMs,
    });
    this.client = client;
    client.on('error', () => {}); // failures surface through the awaited calls or 'close'
    client.on('close', () => {
      this.closedError ??= Object.assign(new Error('The server closed the connection.'), { code: 'EConnectionClosed' });
      this.wake();
    });
    client.on('exists', () => this.wake());
    const onAbort = () => this.wake();
    signal.addEventListener('abort', onAbort);
    try {
      await client.connect();
      if (signal.aborted) return;
      const box = await client.mailboxOpen('INBOX');
      const cursor = await this.openCursor(BigInt(box.uidValidity), BigInt(box.uidNext));
      this.connectedAt = Date.now();
      await this.ctx.connected('CONNECTED');
      this.every(s.safetyCheckMs, () => this.wake());
      this.scheduleRefresh(this.ctx.tokenExpiresAt);
      await this.loop(client, cursor);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** First connection or a new UIDVALIDITY: start over from Process Email From, split at UIDNEXT (decision 012). */
  private async openCursor(uidValidity: bigint, uidNext: bigint): Promise<ImapCursor> {
    const { env, data } = this.ctx;
    const id = data.mailbox.id;
    const stored = await readCursor(env.db, id);
    const syncFrom = firstSyncBoundary({
      mailboxFrom: data.processEmailFrom,
      profileFrom: data.profile.processEmailFrom,
      enabledAt: data.sync.createdAt,
    });
    if (stored && stored.uidValidity === uidValidity) {
      return {
        uidValidity,
        lastUid: stored.lastUid ?? 0n,
        backfillBelowUid: stored.firstSyncDoneAt ? null : stored.backfillBelowUid,
        syncFrom: stored.syncFrom ?? syncFrom,
      };
    }
    if (stored?.uidValidity != null)
      env.logger.info({ mailboxId: id }, 'UIDVALIDITY changed: synchronizing again from Process Email From');
    await resetCursor(env.db, { mailboxId: id, ownerId: env.ownerId, uidValidity, syncFrom });
    await ingest(env.db, {
      mailboxId: id,
      ownerId: env.ownerId,
      messages: [],
      cursor: { uidValidity, lastUid: uidNext - 1n, backfillBelowUid: uidNext },
    });
    return { uidValidity, lastUid: uidNext - 1n, backfillBelowUid: uidNext, syncFrom };
  }

  private async loop(client: ImapFlow, cursor: ImapCursor): Promise<void> {
    const { signal } = this.ctx;
    const f = { client, ctx: this.ctx };
    for (;;) {
      this.check();
      if (signal.aborted) return;
      if (this.dirty) {
        this.dirty = false;
        await fetchNewMail(f, cursor);
        continue;
      }
      if (this.yieldDue()) throw new YieldedError();
      if (cursor.backfillBelowUid !== null) {
        await fetchBackfillBatch(f, cursor);
        continue; // new mail announced meanwhile goes first
      }
      this.inIdle = true;
      try {
        if (!this.dirty && !signal.aborted && !this.yieldDue()) await client.idle();
      } finally {
        this.inIdle = false;
      }
      // An IDLE that ended without us breaking it (server BYE, lost socket): look again before idling.
      if (!client.usable) this.check(true);
      this.dirty ||= !signal.aborted;
    }
  }

  private yieldDue(): boolean {
    if (!this.yieldAsked) return false;
    const wait = this.connectedAt + this.ctx.env.settings.minHoldMs - Date.now();
    if (wait <= 0) return true;
    if (!this.yieldTimer) {
      this.yieldTimer = true;
      this.once(wait, () => this.wake());
    }
    return false;
  }

  /** Throws what ended the connection: a failed token refresh, or the server closing it. */
  private check(closed = false): void {
    // A refused refresh is reported even when the provider's own write (disabling the mailbox) already stopped us.
    if (this.fatal) throw this.fatal;
    if (this.ctx.signal.aborted) return;
    if (this.closedError || closed)
      throw this.closedError ?? Object.assign(new Error('The connection was lost.'), { code: 'EConnectionClosed' });
  }

  /** Breaks IDLE so the loop runs (new mail, a timer, a stop or yield request); a no-op while a fetch runs. */
  private wake(): void {
    this.dirty = true;
    const c = this.client;
    if (!c || !this.inIdle) return;
    if (c.idling) {
      c.noop().catch(() => {});
      return;
    }
    // IDLE is being started: try again in a moment (the loop re-checks `dirty` before idling anyway).
    this.once(20, () => this.wake());
  }

  /** Refresh the access token ahead of expiry while connected; only a reconnect needs it, so trouble is retried. */
  private scheduleRefresh(expiresAt: Date | null): void {
    if (!expiresAt) return;
    const s = this.ctx.env.settings;
    const at = expiresAt.getTime() - s.refreshAheadMs;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(
      () => {
        this.refreshing = this.refreshNow();
      },
      Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)),
    );
    this.refreshTimer.unref();
  }

  private async refreshNow(): Promise<void> {
    if (this.ctx.signal.aborted) return;
    const r = await this.ctx
      .refresh()
      .catch(
        (e: unknown) =>
          ({ ok: false, failure: { code: 'UNKNOWN', message: String(e), hint: '', transient: true } }) as const,
      );
    if (r.ok) {
      this.refreshFailures = 0;
      const grant = await this.ctx.env.db.prisma.gmailGrant
        .findUnique({ where: { mailboxId: this.ctx.data.mailbox.id }, select: { accessTokenExpiresAt: true } })
        .catch(() => null);
      this.scheduleRefresh(grant?.accessTokenExpiresAt ?? new Date(Date.now() + 30 * 60_000));
      return;
    }
    const f = r.failure;
    if (!f.transient) {
      // A revoked grant: stop now, not at the next reconnect (issue 11 item 6).
      this.fatal = new SyncFailureError(f.code, f.message, f.hint, false);
      this.wake();
      return;
    }
    this.refreshFailures++;
    const delay = Math.min(5 * 60_000, 5_000 * 2 ** Math.min(6, this.refreshFailures));
    this.once(delay, () => {
      this.refreshing = this.refreshNow();
    });
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
  private once(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  rethrow(): void {
    if (this.fatal) throw this.fatal;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.refreshTimer);
    await this.refreshing?.catch(() => undefined);
    const c = this.client;
    if (!c) return;
    if (c.usable) {
      await Promise.race([c.logout().catch(() => {}), new Promise((r) => setTimeout(r, 5_000).unref())]);
    }
    c.close();
  }
}
