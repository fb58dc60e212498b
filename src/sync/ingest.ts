// Stores fetched messages as Email rows and advances the mailbox's cursor in one SQL statement (one round trip).
// Idempotent: every unique key (Message-ID, UIDVALIDITY+UID, UIDL) is ON CONFLICT DO NOTHING, so a restart, a
// reconnect, a UIDVALIDITY change or two racing workers never store a message twice; only rows that are new are
// counted and returned. Fenced: the statement writes only while `ownerId` still owns the mailbox (and the UIDVALIDITY
// matches), so a process that lost its lease writes nothing.
import { randomUUID } from 'node:crypto';
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
    id: randomUUID(),
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

/** The columns ingest writes; the rest take their defaults (createdAt, updatedAt, attempts …). */
const COLUMNS = [
  'id',
  'mailboxId',
  'direction',
  'status',
  'messageId',
  'messageIdSynthetic',
  'inReplyTo',
  'references',
  'fromAddress',
  'fromName',
  'to',
  'cc',
  'bcc',
  'subject',
  'text',
  'html',
  'attachments',
  'size',
  'receivedAt',
  'sentAt',
  'occurredAt',
  'imapUidValidity',
  'imapUid',
  'pop3Uidl',
  'errorCode',
  'errorMessage',
]
  .map((n) => `"${n}"`)
  .join(', ');

/**
 * $1 the rows as a JSON array, $2 mailbox, $3 owner, $4 UIDVALIDITY, $5 lastUid, $6 backfillBelowUid, $7 firstSyncDone.
 * `lock` is read by both writes before either writes, so nothing is inserted unless the row was locked as still ours
 * (a claim by another process waits for our commit, or we see its result and write nothing). Returns one row with
 * `owned` = 0 when nothing was written, else one row per inserted email (none: one row of nulls).
 */
const INGEST_SQL = `WITH lock AS (
  SELECT 1 FROM "MailboxSync"
  WHERE "mailboxId" = $2 AND "ownerId" = $3
    AND ($4::bigint IS NULL OR "uidValidity" IS NULL OR "uidValidity" = $4::bigint)
  FOR UPDATE
), ins AS (
  INSERT INTO "Email" (${COLUMNS})
  SELECT ${COLUMNS} FROM json_populate_recordset(NULL::"Email", $1::json)
  WHERE EXISTS (SELECT 1 FROM lock)
  ON CONFLICT DO NOTHING
  RETURNING "id", "messageId", "imapUid"::text AS "imapUid", "pop3Uidl", "status"::text AS "status", "subject",
    "fromAddress", "receivedAt"
), upd AS (
  UPDATE "MailboxSync" SET
    "uidValidity" = COALESCE($4::bigint, "uidValidity"),
    "lastUid" = CASE WHEN $5::bigint IS NULL THEN "lastUid" ELSE GREATEST(COALESCE("lastUid", 0), $5::bigint) END,
    "backfillBelowUid" = CASE WHEN $6::bigint IS NULL THEN "backfillBelowUid"
      ELSE LEAST(COALESCE("backfillBelowUid", $6::bigint), $6::bigint) END,
    "firstSyncDoneAt" = CASE WHEN $7::boolean THEN COALESCE("firstSyncDoneAt", now()) ELSE "firstSyncDoneAt" END,
    "messagesSynced" = "messagesSynced" + (SELECT count(*) FROM ins WHERE "status" = 'RECEIVED')::int,
    "lastMessageAt" = GREATEST("lastMessageAt", (SELECT max("receivedAt") FROM ins WHERE "status" = 'RECEIVED')),
    "updatedAt" = now()
  WHERE "mailboxId" = $2 AND "ownerId" = $3 AND EXISTS (SELECT 1 FROM lock)
  RETURNING 1
)
SELECT (SELECT count(*) FROM upd)::int AS "owned", ins."id", ins."messageId", ins."imapUid", ins."pop3Uidl",
  ins."status", ins."subject", ins."fromAddress"
FROM (VALUES (1)) AS one LEFT JOIN ins ON true`;

interface InsertedRow {
  id: string;
  messageId: string;
  imapUid: string | null;
  pop3Uidl: string | null;
  status: 'RECEIVED' | 'FAILED';
  subject: string;
  fromAddress: string;
}

/** JSON for json_populate_recordset: bigints as text; strings well-formed (a lone surrogate would fail the cast). */
function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return (v as string & { toWellFormed(): string }).toWellFormed();
  return v;
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

  // One statement, one round trip (decision 031): lock the mailbox's sync row if this process owns it (and the
  // UIDVALIDITY matches), insert the rows only then (ON CONFLICT DO NOTHING on every unique key), and move the cursor
  // by what was really inserted. At most half the pool at once (Database.bulk): 200 mailboxes receiving together must
  // not take every connection and make the heartbeat miss its lease (decision 025).
  const c = input.cursor;
  const result = await db.bulk(() =>
    db.raw.query<InsertedRow & { owned: number }>(INGEST_SQL, [
      JSON.stringify(rows, jsonValue),
      input.mailboxId,
      input.ownerId,
      c?.uidValidity?.toString() ?? null,
      c?.lastUid?.toString() ?? null,
      c?.backfillBelowUid?.toString() ?? null,
      c?.firstSyncDone ?? false,
    ]),
  );
  if (!result[0]?.owned) {
    // Nothing was written. Tell a lost lease from a UIDVALIDITY that changed under us (resetCursor first).
    const [state] = await db.raw.query<{ ownerId: string | null }>(
      `SELECT "ownerId" FROM "MailboxSync" WHERE "mailboxId" = $1`,
      [input.mailboxId],
    );
    throw state?.ownerId === input.ownerId
      ? new UidValidityMismatchError(input.mailboxId)
      : new LeaseLostError(input.mailboxId);
  }
  const inserted = result
    .filter((r) => r.id !== null)
    .map((r) => ({ ...r, imapUid: r.imapUid === null ? null : BigInt(r.imapUid) }));

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
