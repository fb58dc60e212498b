// Fetching on an open IMAP connection: new mail above the cursor (UID FETCH lastUid+1:*), one batch of the first
// synchronization going backwards from UIDNEXT (UID SEARCH SINCE, newest first), oversized messages as headers only,
// and messages that could not be processed moved to Undeliverable when the profile says so. Nothing is deleted.
import type { ImapFlow } from 'imapflow';
import type { ConnectionContext } from './env.ts';
import { failedMessageAlert, undeliverableAction } from './health.ts';
import { ingest, type CursorAdvance, type FailedMessage, type FetchedMessage } from './ingest.ts';
import { addAlert } from './status.ts';

export const UNDELIVERABLE = 'Undeliverable';

export interface ImapCursor {
  uidValidity: bigint;
  /** New mail continues above this UID. */
  lastUid: bigint;
  /** The first synchronization still has to look below this UID; null once it reached Process Email From. */
  backfillBelowUid: bigint | null;
  syncFrom: Date;
  /** The mailbox's EXISTS count when new mail was last fetched (undefined: not fetched on this connection yet). */
  knownExists?: number;
}

/** New messages announced since the last fetch up to which one FETCH brings metadata and bodies together. */
export const FETCH_TOGETHER_MAX = 20;

interface Fetcher {
  client: ImapFlow;
  ctx: ConnectionContext;
}

interface Meta {
  uid: bigint;
  size: number;
  internalDate: Date | undefined;
}

const dateOf = (d: unknown): Date | undefined =>
  d instanceof Date ? d : typeof d === 'string' && d ? new Date(d) : undefined;

async function metadata(client: ImapFlow, range: string): Promise<Meta[]> {
  const rows = await client.fetchAll(range, { uid: true, size: true, internalDate: true }, { uid: true });
  return rows.map((r) => ({ uid: BigInt(r.uid), size: r.size ?? 0, internalDate: dateOf(r.internalDate) }));
}

/** Bodies for these messages: the whole message, or only the header block when it is over the size limit. */
async function bodies(f: Fetcher, metas: Meta[], uidValidity: bigint): Promise<FetchedMessage[]> {
  const max = f.ctx.env.settings.maxMessageBytes;
  const small = metas.filter((m) => m.size <= max);
  const big = metas.filter((m) => m.size > max);
  const out = new Map<bigint, Buffer>();
  if (small.length)
    for (const r of await f.client.fetchAll(
      small.map((m) => m.uid).join(','),
      { uid: true, source: true },
      { uid: true },
    ))
      if (r.source) out.set(BigInt(r.uid), r.source);
  if (big.length)
    for (const r of await f.client.fetchAll(
      big.map((m) => m.uid).join(','),
      { uid: true, headers: true },
      { uid: true },
    ))
      if (r.headers) out.set(BigInt(r.uid), r.headers);
  return metas.flatMap((m) => {
    const raw = out.get(m.uid);
    // Gone meanwhile (expunged by another client): nothing to store; the cursor still moves past it.
    return raw ? [{ raw, size: m.size, imap: { uidValidity, uid: m.uid }, internalDate: m.internalDate }] : [];
  });
}

/** Splits metadata (in the order given) into batches of at most N messages and ~B bytes. */
function batches(metas: Meta[], n: number, bytes: number): Meta[][] {
  const out: Meta[][] = [];
  let cur: Meta[] = [];
  let size = 0;
  for (const m of metas) {
    const counted = Math.min(m.size, 1024 * 1024);
    if (cur.length && (cur.length >= n || size + counted > bytes)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(m);
    size += counted;
  }
  if (cur.length) out.push(cur);
  return out;
}

async function store(f: Fetcher, messages: FetchedMessage[], cursor: CursorAdvance): Promise<void> {
  const { env, data } = f.ctx;
  const r = await ingest(env.db, {
    mailboxId: data.mailbox.id,
    ownerId: env.ownerId,
    messages,
    cursor,
    maxMessageBytes: env.settings.maxMessageBytes,
  });
  if (r.stored.length)
    env.logger.debug({ mailboxId: data.mailbox.id, stored: r.stored.length }, 'synchronized new messages');
  if (r.failed.length) await handleFailed(f, r.failed);
}

/**
 * New mail and its bodies in one UID FETCH (decision 031): UID, RFC822.SIZE, INTERNALDATE and BODY.PEEK[]<0.limit+1>.
 * A message over the size limit arrives cut at the limit; only its header block is used (stored as FAILED). Used when
 * the server announced only a few new messages since the last fetch, so one response cannot hold a large backlog.
 */
async function newMailTogether(f: Fetcher, range: string, uidValidity: bigint): Promise<[Meta, FetchedMessage][]> {
  const max = f.ctx.env.settings.maxMessageBytes;
  const rows = await f.client.fetchAll(
    range,
    { uid: true, size: true, internalDate: true, source: { start: 0, maxLength: max + 1 } },
    { uid: true },
  );
  return rows.flatMap((r) => {
    const meta = { uid: BigInt(r.uid), size: r.size ?? r.source?.length ?? 0, internalDate: dateOf(r.internalDate) };
    return r.source
      ? [
          [
            meta,
            { raw: r.source, size: meta.size, imap: { uidValidity, uid: meta.uid }, internalDate: meta.internalDate },
          ],
        ]
      : [];
  });
}

/**
 * UID FETCH lastUid+1:* — everything the server has above the cursor, oldest first, in batches. A few messages
 * announced while connected (IDLE): metadata and bodies in one FETCH. Otherwise (first fetch on a connection, the
 * safety check, a larger backlog): metadata first, then bodies per batch of at most N messages and ~B bytes.
 */
export async function fetchNewMail(f: Fetcher, cursor: ImapCursor): Promise<void> {
  const s = f.ctx.env.settings;
  const range = `${cursor.lastUid + 1n}:*`;
  const exists = f.client.mailbox ? f.client.mailbox.exists : undefined;
  const announced = exists !== undefined && cursor.knownExists !== undefined ? exists - cursor.knownExists : -1;
  if (announced > 0 && announced <= FETCH_TOGETHER_MAX) {
    const got = new Map(
      (await newMailTogether(f, range, cursor.uidValidity)).filter(([m]) => m.uid > cursor.lastUid), // as below
    );
    const metas = [...got.keys()].sort((a, b) => (a.uid < b.uid ? -1 : 1));
    for (const batch of batches(metas, s.batchMessages, s.batchBytes)) {
      if (f.ctx.signal.aborted) return;
      const top = batch[batch.length - 1].uid;
      await store(
        f,
        batch.map((m) => got.get(m) as FetchedMessage),
        { uidValidity: cursor.uidValidity, lastUid: top },
      );
      cursor.lastUid = top;
    }
    cursor.knownExists = exists;
    return;
  }
  const metas = (await metadata(f.client, range))
    .filter((m) => m.uid > cursor.lastUid) // "n:*" also returns the highest message when nothing is above n
    .sort((a, b) => (a.uid < b.uid ? -1 : 1));
  for (const batch of batches(metas, s.batchMessages, s.batchBytes)) {
    if (f.ctx.signal.aborted) return;
    const top = batch[batch.length - 1].uid;
    await store(f, await bodies(f, batch, cursor.uidValidity), { uidValidity: cursor.uidValidity, lastUid: top });
    cursor.lastUid = top;
  }
  cursor.knownExists = exists;
}

/** One batch of the first synchronization, newest first, down to Process Email From (by INTERNALDATE). */
export async function fetchBackfillBatch(f: Fetcher, cursor: ImapCursor): Promise<void> {
  const below = cursor.backfillBelowUid;
  if (below === null) return;
  const { uidValidity, syncFrom } = cursor;
  const done = async () => {
    await store(f, [], { uidValidity, backfillBelowUid: 1n, firstSyncDone: true });
    cursor.backfillBelowUid = null;
    f.ctx.env.logger.info({ mailboxId: f.ctx.data.mailbox.id }, 'first synchronization reached Process Email From');
  };
  if (below <= 1n) return done();
  // SINCE compares dates in the server's time zone: ask from the day before, then filter by the exact time.
  const since = new Date(syncFrom.getTime() - 24 * 3600_000);
  const found = await f.client.search({ uid: `1:${below - 1n}`, since }, { uid: true });
  const uids = (found || []).map((u) => BigInt(u)).filter((u) => u < below);
  if (!uids.length) return done();
  uids.sort((a, b) => (a > b ? -1 : 1));
  const s = f.ctx.env.settings;
  const window = uids.slice(0, s.batchMessages);
  const metas = (await metadata(f.client, window.join(','))).sort((a, b) => (a.uid > b.uid ? -1 : 1));
  const [batch] = batches(metas, s.batchMessages, s.batchBytes);
  if (!batch?.length) return done();
  const lowest = batch[batch.length - 1].uid;
  const wanted = batch.filter((m) => !m.internalDate || m.internalDate >= syncFrom);
  const last = lowest === uids[uids.length - 1];
  await store(f, await bodies(f, wanted, uidValidity), {
    uidValidity,
    backfillBelowUid: lowest,
    ...(last ? { firstSyncDone: true } : {}),
  });
  cursor.backfillBelowUid = last ? null : lowest;
}

/** Each new FAILED row: move it aside when the profile says so (never delete), and name it in a warning alert. */
async function handleFailed(f: Fetcher, failed: FailedMessage[]): Promise<void> {
  const { env, data } = f.ctx;
  const action = undeliverableAction({
    moveFailedToUndeliverable: data.profile.moveFailedToUndeliverable,
    protocol: 'imap',
  });
  let folderReady = false;
  for (const m of failed) {
    let outcome: 'moved' | 'left' | 'move-failed' = 'left';
    if (action === 'move' && m.imapUid !== undefined) {
      try {
        if (!folderReady) {
          await f.client.mailboxCreate(UNDELIVERABLE).catch((e: { serverResponseCode?: string }) => {
            if (e?.serverResponseCode !== 'ALREADYEXISTS') throw e;
          });
          folderReady = true;
        }
        const moved = await f.client.messageMove(String(m.imapUid), UNDELIVERABLE, { uid: true });
        outcome = moved ? 'moved' : 'move-failed';
      } catch (e) {
        env.logger.warn({ err: e, mailboxId: data.mailbox.id }, 'could not move a message to Undeliverable');
        outcome = 'move-failed';
      }
    }
    await addAlert(
      env,
      { mailboxId: data.mailbox.id },
      failedMessageAlert(
        { subject: m.subject, fromAddress: m.fromAddress, imapUid: m.imapUid, reason: m.reason },
        outcome,
      ),
    );
  }
}
