// The email record's locals: its headers, its body as text or as sanitized HTML in a sandboxed frame, its
// attachments (metadata only), and its status. HTML is never trusted: see sanitize.ts and decision 014.
import type { EmailRecord } from './access.ts';
import {
  addressLabel,
  addressLine,
  addresses,
  DIRECTION,
  EMAIL_STATUS,
  sizeLabel,
  statusTone,
  timeLabel,
} from './labels.ts';
import { htmlToText, sanitizeEmailHtml } from './sanitize.ts';
import { isPending, sendProgress } from './send-status.ts';

export type BodyView = 'text' | 'html';

/** ?view=text|html from the address bar; anything else is the default for the message. */
export function bodyViewParam(value: unknown): BodyView | null {
  return value === 'text' || value === 'html' ? value : null;
}

/**
 * The frame's document: the sanitized body behind its own Content-Security-Policy, which allows inline styles and
 * data: images and nothing else, so even a sanitizer miss loads nothing. The frame inherits the page's policy too.
 */
function frameDocument(safeHtml: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'"><style>body{margin:0;padding:.75rem;font:15px/1.5 system-ui,sans-serif;color:#1b1b1b;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style></head><body>${safeHtml}</body></html>`;
}

/** Text when the message has it (or when asked for); else the HTML, sanitized, in a sandboxed frame. */
export function emailBody(e: Pick<EmailRecord, 'text' | 'html'>, asked: BodyView | null) {
  const hasText = e.text !== null && e.text.trim() !== '';
  const hasHtml = e.html !== null && e.html.trim() !== '';
  const view: BodyView | null = !hasHtml ? (hasText ? 'text' : null) : (asked ?? (hasText ? 'text' : 'html'));
  const other = hasHtml
    ? view === 'html'
      ? { href: '?view=text', label: 'Show as plain text' }
      : { href: '?view=html', label: 'Show formatted (HTML)' }
    : null;
  if (view === 'html') return { kind: 'html' as const, srcdoc: frameDocument(sanitizeEmailHtml(e.html ?? '')), other };
  if (view === 'text') {
    // A message with HTML only, read as text: the words of its HTML, never its markup.
    const text = hasText ? (e.text ?? '') : htmlToText(e.html ?? '');
    return { kind: 'text' as const, text, derived: !hasText, other };
  }
  return { kind: 'empty' as const, other: null };
}

interface AttachmentMeta {
  name: string;
  type: string;
  size: number;
  inline: boolean;
}

function attachmentsOf(value: unknown): AttachmentMeta[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null)
    .map((a) => ({
      name: String(a.name ?? '') || '(no name)',
      type: String(a.type ?? '') || 'application/octet-stream',
      size: Number.isFinite(Number(a.size)) ? Number(a.size) : 0,
      inline: a.inline === true,
    }));
}

export function emailRecordPage(e: EmailRecord, asked: BodyView | null, o: { retryLimit?: number } = {}) {
  const to = addresses(e.to);
  const cc = addresses(e.cc);
  const bcc = addresses(e.bcc);
  const headers: [string, string][] = [
    ['From', addressLabel({ address: e.fromAddress, name: e.fromName }) || '—'],
    ['To', addressLine(to) || '—'],
    ...(cc.length ? [['Cc', addressLine(cc)] as [string, string]] : []),
    // Bcc is only known for mail written in Mailroom.
    ...(bcc.length ? [['Bcc', addressLine(bcc)] as [string, string]] : []),
    ['Date', timeLabel(e.sentAt, true)],
    ...(e.direction === 'INCOMING' ? [['Received', timeLabel(e.receivedAt, true)] as [string, string]] : []),
    ['Subject', e.subject || '(no subject)'],
    ['Message-ID', e.messageIdSynthetic ? `none (Mailroom's key: ${e.messageId})` : e.messageId],
    ...(e.inReplyTo ? [['In-Reply-To', e.inReplyTo] as [string, string]] : []),
    ...(e.references.length ? [['References', e.references.join(' ')] as [string, string]] : []),
    ...(e.smtpResponse ? [['Server response', e.smtpResponse] as [string, string]] : []),
  ];
  return {
    title: e.subject || '(no subject)',
    email: {
      id: e.id,
      direction: DIRECTION[e.direction],
      status: EMAIL_STATUS[e.status],
      statusTone: statusTone(e.status),
      size: sizeLabel(e.size),
      mailbox: e.mailbox,
      createdBy: e.createdBy,
      /** Outgoing: retries, the wait for the next one, or why the result is unknown (issue 12). */
      progress: sendProgress(e, o.retryLimit ?? 5),
      live: { pending: isPending(e.status), version: `${e.status}:${e.attempts}:${e.updatedAt.getTime()}` },
    },
    headers,
    /** Why the message could not be processed (incoming) or sent (outgoing, issue 12). */
    problem: e.errorCode ? { code: e.errorCode, message: e.errorMessage ?? '', hint: e.errorHint ?? '' } : null,
    body: emailBody(e, asked),
    attachments: attachmentsOf(e.attachments).map((a) => ({ ...a, size: sizeLabel(a.size) })),
    /** Buttons on the record: Reply on a message that came in. */
    actions: (e.direction === 'INCOMING' && e.status === 'RECEIVED'
      ? [{ label: 'Reply', href: `/emails/new?reply=${e.id}`, primary: true }]
      : []) as { label: string; href: string; primary?: boolean }[],
  };
}
