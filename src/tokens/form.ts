// The new-token form (the page and POST /api/v1/tokens share it): a name, read-only or read-write, and an expiry.
import { z } from 'zod';

export const TOKEN_EXPIRY_DAYS = ['7', '30', '90', '365', 'never'] as const;
const DAY_MS = 86_400_000;

export const newTokenSchema = z.object({
  name: z
    .string({ error: 'Enter a name' })
    .trim()
    .min(1, 'Enter a name')
    .max(100, 'Use at most 100 characters')
    .meta({ description: 'What the token is for, e.g. "Provisioning script".' }),
  scope: z
    .enum(['READ_ONLY', 'READ_WRITE'], { error: 'Choose read-only or read-write' })
    .meta({ description: 'READ_ONLY tokens may only GET; writes answer 403.' }),
  expiresInDays: z
    .enum(TOKEN_EXPIRY_DAYS, { error: 'Choose when the token expires' })
    .meta({ description: 'Days until the token stops working, or "never".' }),
});
export type NewTokenBody = z.infer<typeof newTokenSchema>;
export interface NewToken {
  name: string;
  scope: 'READ_ONLY' | 'READ_WRITE';
  expiresAt: Date | null;
}

export function toNewToken(b: NewTokenBody, now = new Date()): NewToken {
  const days = b.expiresInDays === 'never' ? null : Number(b.expiresInDays);
  return { name: b.name, scope: b.scope, expiresAt: days ? new Date(now.getTime() + days * DAY_MS) : null };
}
