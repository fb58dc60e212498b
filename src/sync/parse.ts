// A raw RFC 822 message → the fields of an Email row (postal-mime: docs/decisions/012). Never throws: a message that
// cannot be processed (over the size limit, unparseable) still yields what could be read of its headers and a reason,
// so it is recorded once, reported, and never fetched again.
import type PostalMime from 'postal-mime';
import type { Address, Mailbox as PostalMailbox } from 'postal-mime';
import { headerBlock, messageIdKey, normalizeMessageId, parseReferences, MAX_MESSAGE_ID } from './message-id.ts';

/** Gmail accepts messages up to about 50 MB; the default stays just above so every Gmail message fits. */
export const DEFAULT_MAX_MESSAGE_BYTES = 52 * 1024 * 1024;

export interface EmailAddress {
  address: string;
  name: string;
}
export interface AttachmentInfo {
  name: string;
  type: string;
  size: number;
  inline: boolean;
}

export interface ParsedEmail {
  messageId: string;
  messageIdSynthetic: boolean;
  inReplyTo: string | null;
  references: string[];
  fromAddress: string;
  fromName: string;
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  subject: string;
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
  size: number;
  /** The Date header, when it is a real date. */
  sentAt: Date | null;
}

export type ParseFailureCode = 'MESSAGE_TOO_LARGE' | 'UNPARSEABLE';
export type ParseResult =
  | { ok: true; email: ParsedEmail }
  | { ok: false; code: ParseFailureCode; reason: string; email: ParsedEmail };

export interface ParseOptions {
  /** The whole message's size (IMAP RFC822.SIZE); raw may then hold only the header block. Defaults to raw.length. */
  size?: number;
  maxBytes?: number;
}

const PARSER_LIMITS = { maxNestingDepth: 64, maxHeadersSize: 1024 * 1024, attachmentEncoding: 'arraybuffer' as const };

/** PostgreSQL text cannot hold NUL; control characters other than tab/newlines have no place in a name either. */
const clean = (s: string | null | undefined, max = Infinity): string => (s ?? '').replace(/\u0000/g, '').slice(0, max);
const cleanLine = (s: string | null | undefined, max: number): string =>
  clean(s, max)
    .replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim();

function mailboxes(list: Address | Address[] | undefined): EmailAddress[] {
  const flat: PostalMailbox[] = [];
  for (const a of Array.isArray(list) ? list : list ? [list] : []) {
    if (a.group) flat.push(...a.group);
    else flat.push(a as PostalMailbox);
  }
  return flat
    .slice(0, 1000)
    .map((m) => ({ address: cleanLine(m.address, 320), name: cleanLine(m.name, 256) }))
    .filter((m) => m.address || m.name);
}

function validDate(value: string | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function toEmail(
  m: Awaited<ReturnType<typeof PostalMime.parse>>,
  header: Buffer,
  size: number,
  withBody: boolean,
): ParsedEmail {
  const key = messageIdKey(m.messageId, header, size);
  const from = mailboxes(m.from)[0];
  const inReplyTo = normalizeMessageId(m.inReplyTo);
  return {
    messageId: clean(key.messageId),
    messageIdSynthetic: key.synthetic,
    inReplyTo: inReplyTo && inReplyTo.length <= MAX_MESSAGE_ID ? clean(inReplyTo) : null,
    references: parseReferences(m.references).map((r) => clean(r)),
    fromAddress: from?.address ?? '',
    fromName: from?.name ?? '',
    to: mailboxes(m.to),
    cc: mailboxes(m.cc),
    bcc: mailboxes(m.bcc),
    subject: cleanLine(m.subject, 2000),
    text: withBody && m.text !== undefined ? clean(m.text) : null,
    html: withBody && m.html !== undefined ? clean(m.html) : null,
    attachments: withBody
      ? m.attachments.slice(0, 1000).map((a) => ({
          name: cleanLine(a.filename, 512) || 'unnamed',
          type: cleanLine(a.mimeType, 255) || 'application/octet-stream',
          size: typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength,
          inline: a.disposition === 'inline' || Boolean(a.related),
        }))
      : [],
    size,
    sentAt: validDate(m.date),
  };
}

/** What is left when not even the headers could be read: a row that names the message by its size and bytes. */
function unreadable(header: Buffer, size: number): ParsedEmail {
  const key = messageIdKey(null, header, size);
  return {
    messageId: key.messageId,
    messageIdSynthetic: true,
    inReplyTo: null,
    references: [],
    fromAddress: '',
    fromName: '',
    to: [],
    cc: [],
    bcc: [],
    subject: '',
    text: null,
    html: null,
    attachments: [],
    size,
    sentAt: null,
  };
}

const HEADER_LINE = /^[!-9;-~]+[ \t]*:/m;

/** A failed message keeps what its header block tells (subject, sender, Message-ID), or only its size and bytes. */
/** postal-mime, loaded by the first message parsed, not at start (decision 035). */
const postalMime = async (): Promise<typeof PostalMime> => (await import('postal-mime')).default;

async function failed(code: ParseFailureCode, reason: string, header: Buffer, size: number): Promise<ParseResult> {
  const headers = await (await postalMime())
    .parse(Buffer.concat([header, Buffer.from('\r\n')]), PARSER_LIMITS)
    .catch(() => null);
  return { ok: false, code, reason, email: headers ? toEmail(headers, header, size, false) : unreadable(header, size) };
}

export async function parseMessage(raw: Buffer, opts: ParseOptions = {}): Promise<ParseResult> {
  const size = opts.size ?? raw.length;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const header = headerBlock(raw);
  if (size > maxBytes) {
    return failed(
      'MESSAGE_TOO_LARGE',
      `The message is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} limit.`,
      header,
      size,
    );
  }
  if (!HEADER_LINE.test(header.toString('latin1'))) {
    return {
      ok: false,
      code: 'UNPARSEABLE',
      reason: 'The message has no header lines.',
      email: unreadable(header, size),
    };
  }
  try {
    const parser = await postalMime();
    return { ok: true, email: toEmail(await parser.parse(raw, PARSER_LIMITS), header, size, true) };
  } catch (e) {
    return failed('UNPARSEABLE', `The message could not be parsed: ${clean((e as Error).message, 200)}`, header, size);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}
