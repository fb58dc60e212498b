// Stores fetched messages as Email rows and advances the mailbox's cursor in one transaction. Idempotent: every unique
// key (Message-ID, UIDVALIDITY+UID, UIDL) is ON CONFLICT DO NOTHING, so a restart, a reconnect, a UIDVALIDITY change
// or two racing workers never store a message twice; only rows that are new are counted and returned. Fenced: the
// transaction commits only while `ownerId` still owns the mailbox, so a process that lost its lease writes nothing.
import type { Database } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { parseMessage, DEFAULT_MAX_MESSAGE_BYTES, type ParseFailureCode, type ParseResult } from './parse.ts';

export interface FetchedMessage {
  /** The whole message, or only its header block when `size` is over the limit (fetch headers only then). */
  raw: Buffer;
  /** The whole message's size: IMAP RFC822.SIZE or the POP3 LIST size. Defaults to raw.length. */
  size?: number;
  imap?: { uidValidity: bigint; uid: bigint };
  pop3Uidl?: string;
  /** IMAP INTERNALDATE: when the server accepted the message. */
  internalDate?: Date;
}

/** How far the mailbox got; only moved forward. Omit for POP3. */
export interface CursorAdvance {
  uidValidity: bigint;
  /** New mail: the highest UID now stored (or skipped on purpose, e.g. older than Process Email From). */
  lastUid?: bigint;
  /** First synchronization going backwards: everything from this UID up is done. */
  backfillBelowUid?: bigint;
  /** The first synchronization reached Process Email From. */
  firstSyncDone?: boolean;
}

export interface IngestInput {
  mailboxId: string;
  ownerId: string;
  messages: FetchedMessage[];
  cursor?: CursorAdvance;
  maxMessageBytes?: number;
  now?: () => Date;
}

export interface StoredRef {
  emailId: string;
  messageId: string;
  imapUid?: bigint;
  pop3Uidl?: string;
}
export interface FailedMessage extends StoredRef {
  code: ParseFailureCode;
  reason: string;
  subject: string;
  fromAddress: string;
}

export interface IngestResult {
  /** New incoming emails (status RECEIVED). */
  stored: StoredRef[];
  /** New messages that could not be processed, recorded as FAILED rows; report each once (alert, Undeliverable). */
  failed: FailedMessage[];
  /** Messages already stored (or repeated in this batch). */
  duplicates: number;
}

export class LeaseLostError extends Error {
  constructor(readonly mailboxId: string) {
    super(`This process no longer owns mailbox ${mailboxId}; nothing was stored.`);
  }
}
export class UidValidityMismatchError extends Error {
  constructor(readonly mailboxId: string) {
    super(`The stored UIDVALIDITY of mailbox ${mailboxId} differs; reset the cursor first.`);
  }
}

const keyOf = (m: { imapUid?: bigint | null; pop3Uidl?: string | null; messageId: string }) =>
  m.imapUid != null ? `uid:${m.imapUid}` : m.pop3Uidl != null ? `uidl:${m.pop3Uidl}` : `mid:${m.messageId}`;

function row(mailboxId: string, m: FetchedMessage, parsed: ParseResult, now: Date): Prisma.EmailCreateManyInput {
  const e = parsed.email;
  const receivedAt = m.internalDate ?? e.sentAt ?? now;
  return {
    mailboxId,
    direction: 'INCOMING',
    status: parsed.ok ? 'RECEIVED' : 'FAILED',
    messageId: e.messageId,
    messageIdSynthetic: e.messageIdSynthetic,
    inReplyTo: e.inReplyTo,
    references: e.references,
    fromAddress: e.fromAddress,
    fromName: e.fromName,
    to: e.to as never,
    cc: e.cc as never,
    bcc: e.bcc as never,
    subject: e.subject,
    text: e.text,
    html: e.html,
    attachments: e.attachments as never,
    size: e.size,
    receivedAt,
    sentAt: e.sentAt,
    occurredAt: receivedAt,
    imapUidValidity: m.imap?.uidValidity ?? null,
    imapUid: m.imap?.uid ?? null,
    pop3Uidl: m.pop3Uidl?.replace(/\u0000/g, '') ?? null,
    ...(parsed.ok ? {} : { errorCode: parsed.code, errorMessage: parsed.reason }),
  };
}

export async function ingest(db: Database, input: IngestInput): Promise<IngestResult> {
  const now = (input.now ?? (() => new Date()))();
  const maxBytes = input.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // Parse outside the transaction: CPU work must not hold a connection (or, on PGlite, the one database).
  const parsed = await Promise.all(input.messages.map((m) => parseMessage(m.raw, { size: m.size, maxBytes })));
  const rows = input.messages.map((m, i) => row(input.mailboxId, m, parsed[i], now));
  const failures = new Map(
    parsed.flatMap((p, i) =>
      p.ok
        ? []
        : [[keyOf(rows[i] as { imapUid: bigint | null; pop3Uidl: string | null; messageId: string }), p] as const],
    ),
  );

  // At most half the pool at once (Database.bulk): 200 mailboxes receiving together must not take every connection
  // and make the heartbeat miss its lease (decision 025).
  const inserted = await db.bulk(() =>
    db.prisma.$transaction(
      async (tx) => {
        const created = rows.length
          ? await tx.email.createManyAndReturn({
              data: rows,
              skipDuplicates: true,
              select: {
                id: true,
                messageId: true,
                imapUid: true,
                pop3Uidl: true,
                status: true,
                subject: true,
                fromAddress: true,
                receivedAt: true,
              },
            })
          : [];
        const received = created.filter((c) => c.status === 'RECEIVED');
        const lastMessageAt = received.reduce<Date | null>(
          (max, c) => (c.receivedAt && (!max || c.receivedAt > max) ? c.receivedAt : max),
          null,
        );
        const c = input.cursor;
        const updated = await tx.$executeRaw`UPDATE "MailboxSync" SET
        "uidValidity" = COALESCE(${c?.uidValidity ?? null}::bigint, "uidValidity"),
        "lastUid" = CASE WHEN ${c?.lastUid ?? null}::bigint IS NULL THEN "lastUid" ELSE GREATEST(COALESCE("lastUid", 0), ${c?.lastUid ?? null}::bigint) END,
        "backfillBelowUid" = CASE WHEN ${c?.backfillBelowUid ?? null}::bigint IS NULL THEN "backfillBelowUid"
          ELSE LEAST(COALESCE("backfillBelowUid", ${c?.backfillBelowUid ?? null}::bigint), ${c?.backfillBelowUid ?? null}::bigint) END,
        "firstSyncDoneAt" = CASE WHEN ${c?.firstSyncDone ?? false}::boolean THEN COALESCE("firstSyncDoneAt", now()) ELSE "firstSyncDoneAt" END,
        "messagesSynced" = "messagesSynced" + ${received.length}::int,
        "lastMessageAt" = GREATEST("lastMessageAt", ${lastMessageAt}::timestamptz),
        "updatedAt" = now()
      WHERE "mailboxId" = ${input.mailboxId} AND "ownerId" = ${input.ownerId}
        AND (${c?.uidValidity ?? null}::bigint IS NULL OR "uidValidity" IS NULL OR "uidValidity" = ${c?.uidValidity ?? null}::bigint)`;
        if (updated === 0) {
          const [state] = await tx.$queryRaw<
            { ownerId: string | null }[]
          >`SELECT "ownerId" FROM "MailboxSync" WHERE "mailboxId" = ${input.mailboxId}`;
          throw state?.ownerId === input.ownerId
            ? new UidValidityMismatchError(input.mailboxId)
            : new LeaseLostError(input.mailboxId);
        }
        return created;
      },
      { timeout: 60_000, maxWait: 60_000 },
    ),
  );

  const ref = (c: (typeof inserted)[number]): StoredRef => ({
    emailId: c.id,
    messageId: c.messageId,
    ...(c.imapUid != null ? { imapUid: c.imapUid } : {}),
    ...(c.pop3Uidl != null ? { pop3Uidl: c.pop3Uidl } : {}),
  });
  const stored = inserted.filter((c) => c.status === 'RECEIVED').map(ref);
  const failed = inserted
    .filter((c) => c.status === 'FAILED')
    .map((c): FailedMessage => {
      const f = failures.get(keyOf(c)) as Extract<ParseResult, { ok: false }> | undefined;
      return {
        ...ref(c),
        code: f?.code ?? 'UNPARSEABLE',
        reason: f?.reason ?? '',
        subject: c.subject,
        fromAddress: c.fromAddress,
      };
    });
  return { stored, failed, duplicates: rows.length - inserted.length };
}
