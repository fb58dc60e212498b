// The admins' words (Dynamics 365 email activities) for email fields, and how addresses, sizes and times read.
export const DIRECTION = { INCOMING: 'Incoming', OUTGOING: 'Outgoing' } as const;
export const EMAIL_STATUS = {
  RECEIVED: 'Received',
  PENDING_SEND: 'Pending Send',
  SENDING: 'Sending',
  SENT: 'Sent',
  FAILED: 'Failed',
  UNKNOWN: 'Sent status unknown',
} as const;
export type EmailStatusName = keyof typeof EMAIL_STATUS;

/** The badge colour of a status (public/css/app.css badge-*). */
export function statusTone(status: EmailStatusName): string {
  if (status === 'FAILED' || status === 'UNKNOWN') return 'failure';
  if (status === 'PENDING_SEND' || status === 'SENDING') return 'pending';
  return 'success';
}

export interface Address {
  address: string;
  name: string;
}

/** Stored address lists are JSON written by the sync; anything else in there reads as no address. */
export function addresses(value: unknown): Address[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null)
    .map((a) => ({ address: String(a.address ?? ''), name: String(a.name ?? '') }))
    .filter((a) => a.address || a.name);
}

/** "Ada Lovelace <ada@example.com>", or the address alone. */
export function addressLabel(a: Address): string {
  if (!a.name || a.name === a.address) return a.address;
  return a.address ? `${a.name} <${a.address}>` : a.name;
}

/** A list of addresses on one line; past `max`, "and 12 more". */
export function addressLine(list: Address[], max = Infinity): string {
  const shown = list.slice(0, max).map(addressLabel).join(', ');
  return list.length > max ? `${shown} and ${list.length - max} more` : shown;
}

/** "512 bytes", "12 KB", "3.4 MB". */
export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** UTC to the minute (lists) or the second (records): "2026-11-22 03:08 UTC". */
export function timeLabel(d: Date | null | undefined, seconds = false): string {
  return d
    ? `${d
        .toISOString()
        .replace('T', ' ')
        .slice(0, seconds ? 19 : 16)} UTC`
    : '—';
}
