// The New email form: its fields checked with zod, addresses parsed one by one so each field says which address is
// wrong. Also used by the JSON API (issue 16) through the send service.
import { z } from 'zod';
import type { Address } from './labels.ts';

export const MAX_RECIPIENTS = 100;
export const MAX_SUBJECT = 998; // RFC 5322's line limit
export const MAX_TEXT = 200_000;

const emailAddress = z.email();

/** Splits "Ada <ada@x.org>, bob@y.org; "Last, First" <c@z.org>" at commas and semicolons outside quotes and <>. */
export function splitAddresses(input: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of input) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** One address: "Name <a@b>", "<a@b>" or "a@b"; null if it is not an email address. */
export function parseAddress(part: string): Address | null {
  const m = /^(.*?)\s*<([^<>]*)>$/.exec(part);
  const address = (m ? m[2] : part).trim();
  const name = m
    ? m[1]
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim()
    : '';
  if (!emailAddress.safeParse(address).success || /[\r\n]/.test(name)) return null;
  return { address: address.toLowerCase(), name };
}

/** An address as the form's fields hold it: "Name" <a@b> (quotes in the name dropped), or a@b alone. */
export function formAddress(a: { address: string | null; name?: string | null }): string {
  const address = a.address ?? '';
  return a.name && a.name !== address ? `"${a.name.replace(/"/g, '')}" <${address}>` : address;
}

/** A field of addresses: every one valid, or the first bad one named in the error. */
const addressList = (label: string, required: boolean) =>
  z
    .string()
    .max(20_000, `${label} is too long.`)
    .optional()
    .default('')
    .transform((value, ctx) => {
      const list: Address[] = [];
      for (const part of splitAddresses(value)) {
        const a = parseAddress(part);
        if (!a) {
          ctx.addIssue({ code: 'custom', message: `"${part.slice(0, 80)}" is not an email address.` });
          return z.NEVER;
        }
        list.push(a);
      }
      if (required && !list.length) {
        ctx.addIssue({ code: 'custom', message: `Enter at least one address in ${label}.` });
        return z.NEVER;
      }
      return list;
    });

export const composeSchema = z
  .object({
    /** The form's own id, made when the form was shown: a second submit of the same form finds the first email. */
    submissionId: z.uuid('Reload the page and write the email again.'),
    mailboxId: z.uuid('Choose the mailbox to send from.'),
    to: addressList('To', true),
    cc: addressList('Cc', false),
    bcc: addressList('Bcc', false),
    subject: z
      .string()
      .optional()
      .default('')
      .transform((s) => s.replace(/[\r\n]+/g, ' ').trim())
      .pipe(z.string().max(MAX_SUBJECT, `Subject is longer than ${MAX_SUBJECT} characters.`)),
    text: z
      .string()
      .optional()
      .default('')
      .pipe(z.string().max(MAX_TEXT, `The message is longer than ${MAX_TEXT.toLocaleString('en')} characters.`)),
    replyToId: z
      .union([z.uuid(), z.literal('')])
      .optional()
      .transform((v) => v || null),
  })
  .superRefine((v, ctx) => {
    const n = (v.to?.length ?? 0) + (v.cc?.length ?? 0) + (v.bcc?.length ?? 0);
    if (n > MAX_RECIPIENTS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `At most ${MAX_RECIPIENTS} recipients in all.` });
  });
export type ComposeInput = z.output<typeof composeSchema>;

/** The form's fields as typed, for re-rendering it with errors. */
export function composeValues(body: Record<string, unknown>): Record<string, string> {
  const s = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  return {
    submissionId: s('submissionId'),
    mailboxId: s('mailboxId'),
    to: s('to'),
    cc: s('cc'),
    bcc: s('bcc'),
    subject: s('subject'),
    text: s('text'),
    replyToId: s('replyToId'),
  };
}
