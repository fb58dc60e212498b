// Message-IDs as dedupe keys: normalized so that one message always yields the same key, and synthesized from the
// message's header block and size when it has none (or an unusable one), so the (mailbox, Message-ID) index always
// applies.
import { createHash } from 'node:crypto';

/** Longer ids are hashed: the unique index must never meet a value too long for a btree entry. */
export const MAX_MESSAGE_ID = 512;

/** "<a@b>", " <a@b> (comment)", "a@b" → "<a@b>"; null when there is nothing usable. */
export function normalizeMessageId(value: string | null | undefined): string | null {
  if (!value) return null;
  const bracketed = /<([^<>\s]+)>/.exec(value)?.[1];
  const bare = bracketed ?? value.trim().split(/\s+/)[0];
  const id = bare?.replace(/[\u0000-\u001f\u007f]/g, '');
  return id ? `<${id}>` : null;
}

/** The key to store: the normalized id, or a synthetic one derived from the header block and the message size. */
export function messageIdKey(
  headerValue: string | null | undefined,
  headerBlock: Buffer,
  size: number,
): { messageId: string; synthetic: boolean } {
  const id = normalizeMessageId(headerValue);
  if (id && id.length <= MAX_MESSAGE_ID) return { messageId: id, synthetic: false };
  const source = id ? Buffer.from(id) : Buffer.concat([headerBlock, Buffer.from(`\n${size}`)]);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 40);
  return { messageId: `<${hash}@${id ? 'long-id' : 'no-id'}.mailroom.invalid>`, synthetic: true };
}

/** "<a@b> <c@d>" → ["<a@b>", "<c@d>"] (at most 100, each usable). */
export function parseReferences(value: string | null | undefined): string[] {
  if (!value) return [];
  const ids = (value.match(/<[^<>\s]+>/g) ?? [])
    .map((v) => normalizeMessageId(v))
    .filter((v): v is string => !!v && v.length <= MAX_MESSAGE_ID);
  return ids.slice(-100);
}

/** Bytes up to the blank line that ends the header block (all of it when there is none), at most maxBytes. */
export function headerBlock(raw: Buffer, maxBytes = 256 * 1024): Buffer {
  const limit = Math.min(raw.length, maxBytes);
  for (let i = 0; i < limit - 1; i++) {
    if (raw[i] === 0x0a && (raw[i + 1] === 0x0a || (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a)))
      return raw.subarray(0, i + 1);
  }
  return raw.subarray(0, limit);
}
