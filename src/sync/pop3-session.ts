// One POP3 poll of a mailbox: take a connection slot, sign in, UIDL and LIST, fetch what is not stored yet (RETR, or
// only the headers with TOP n 0 when over the size limit), store, QUIT. Never DELE: the server keeps every message.
// On the first synchronization, messages older than Process Email From (by their Date header) are skipped; the
// skipped UIDLs are remembered for the life of the session. POP3 has no arrival time, so this boundary is fuzzy
// by DATE_SLACK_MS.
import { connectionClaims } from './connections.ts';
import { currentCap, incomingServer } from './load.ts';
import { Pop3Client } from '../mail/pop3-client.ts';
import { firstSyncBoundary } from './cursor.ts';
import type { ConnectionContext } from './env.ts';
import { failedMessageAlert } from './health.ts';
import { ingest, type FetchedMessage } from './ingest.ts';
import { addAlert } from './status.ts';

const CRLF = Buffer.from('\r\n');
const DATE_SLACK_MS = 10 * 60_000;

/** Header Date of a header block, or null. */
function headerDate(headers: Buffer): Date | null {
  const m = /^date:[ \t]*(.+(?:\r?\n[ \t].+)*)/im.exec(headers.toString('latin1'));
  if (!m) return null;
  const d = new Date(m[1].replace(/\r?\n[ \t]+/g, ' ').trim());
  return Number.isNaN(d.getTime()) ? null : d;
}

export async function pollPop3(ctx: ConnectionContext, skipped: Set<string>): Promise<void> {
  const { env, data, auth, signal } = ctx;
  const endpoint = incomingServer(data.profile);
  const claims = connectionClaims({
    profileId: data.profile.id,
    maxConcurrentConnections: () => currentCap(env, data.profile.id, data.profile.maxConcurrentConnections),
    protocol: 'pop3',
    host: endpoint.host,
    login: auth.user,
  });
  const permit = await env.semaphore.acquire(claims, { purpose: `sync:${data.mailbox.id}`, signal });
  let client: Pop3Client | undefined;
  const onAbort = () => client?.close();
  signal.addEventListener('abort', onAbort);
  try {
    const pop = await Pop3Client.connect(
      { host: endpoint.host, port: endpoint.port, ca: env.ca, timeoutMs: env.settings.connectTimeoutMs },
      (c) => {
        client = c;
      },
    );
    if (auth.kind === 'xoauth2') await pop.authXoauth2(auth.user, auth.accessToken);
    else await pop.login(auth.user, auth.password);
    const uidl = await pop.uidl();
    const sizes = new Map((await pop.list()).map((l) => [l.n, l.size]));
    const candidates = uidl.filter((u) => !skipped.has(u.uid));
    const known = new Set(
      (
        await env.db.prisma.email.findMany({
          where: { mailboxId: data.mailbox.id, pop3Uidl: { in: candidates.map((c) => c.uid) } },
          select: { pop3Uidl: true },
        })
      ).map((e) => e.pop3Uidl),
    );
    const fresh = candidates.filter((c) => !known.has(c.uid));
    const firstSync = data.sync.firstSyncDoneAt === null;
    const syncFrom = firstSyncBoundary({
      mailboxFrom: data.processEmailFrom,
      profileFrom: data.profile.processEmailFrom,
      enabledAt: data.sync.createdAt,
    });
    const max = env.settings.maxMessageBytes;
    let batch: FetchedMessage[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const r = await ingest(env.db, {
        mailboxId: data.mailbox.id,
        ownerId: env.ownerId,
        messages: batch,
        maxMessageBytes: max,
      });
      batch = [];
      // POP3 has no folders: a message that could not be processed stays on the server, named in an alert.
      for (const m of r.failed)
        await addAlert(
          env,
          { mailboxId: data.mailbox.id },
          failedMessageAlert(
            { subject: m.subject, fromAddress: m.fromAddress, pop3Uidl: m.pop3Uidl, reason: m.reason },
            'left',
          ),
        );
    };
    for (const u of fresh) {
      if (signal.aborted) return;
      const size = sizes.get(u.n) ?? 0;
      const top = async () =>
        Buffer.concat((await pop.multiline(`TOP ${u.n} 0`, 1024 * 1024)).flatMap((l) => [l, CRLF]));
      if (firstSync) {
        // The Date header is the sender's clock, to the second: only clearly older mail is left out.
        const date = headerDate(await top());
        if (date && date.getTime() < syncFrom.getTime() - DATE_SLACK_MS) {
          skipped.add(u.uid);
          continue;
        }
      }
      const raw = size > max ? await top() : await pop.retr(u.n, max + 1024 * 1024);
      batch.push({ raw, size: Math.max(size, raw.length), pop3Uidl: u.uid });
      if (batch.length >= env.settings.batchMessages) await flush();
    }
    await flush();
    if (firstSync)
      await env.db.prisma.mailboxSync.updateMany({
        where: { mailboxId: data.mailbox.id, ownerId: env.ownerId, firstSyncDoneAt: null },
        data: { firstSyncDoneAt: new Date(), syncFrom },
      });
    await pop.quit().catch(() => {});
    await ctx.connected('POLLING');
  } finally {
    signal.removeEventListener('abort', onAbort);
    client?.close();
    await permit.release();
  }
}

/** How long to wait between polls: the profile's Minimum Polling Interval, at least the engine's minimum. */
export function pollIntervalMs(ctx: Pick<ConnectionContext, 'env' | 'data'>): number {
  const s = ctx.env.settings;
  if (s.pollMs !== undefined) return s.pollMs;
  return Math.max(s.minPollMs, ctx.data.profile.minPollingIntervalMinutes * 60_000);
}
