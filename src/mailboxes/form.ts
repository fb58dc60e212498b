// The mailbox form: what may be posted, validated by zod. Unknown fields (role, approval, statuses) are dropped.
import { z } from 'zod';
import { emailSchema } from '../auth/users.ts';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const syncMethod = z.enum(['NONE', 'SERVER_SIDE_SYNC', 'EMAIL_ROUTER'], {
  error: 'Choose None, Server-Side Synchronization or Email Router',
});

export const mailboxFormSchema = z.object({
  name: z.string({ error: 'Enter a name' }).trim().min(1, 'Enter a name').max(200, 'Use at most 200 characters'),
  emailAddress: z
    .string({ error: 'Enter a valid email address' })
    .max(320, 'Use at most 320 characters')
    .pipe(emailSchema),
  ownerId: z.preprocess(blankToUndefined, z.uuid({ error: 'Choose an owner' }).optional()),
  profileId: z.preprocess(
    (v) => (v === '' || v === undefined ? null : v),
    z.uuid({ error: 'Choose an email server profile' }).nullable(),
  ),
  incomingEmail: syncMethod,
  outgoingEmail: syncMethod,
  credentialUsername: z.string().trim().max(320, 'Use at most 320 characters').optional().default(''),
  credentialPassword: z.string().max(1000, 'Use at most 1000 characters').optional().default(''),
  clearCredentialPassword: z.preprocess((v) => v === 'on' || v === 'true' || v === '1', z.boolean()),
});
export type MailboxInput = z.infer<typeof mailboxFormSchema>;

/** What the form shows again after an error: everything typed, except the password. */
export function formValues(body: Record<string, unknown>): Record<string, string> {
  const keep = ['name', 'emailAddress', 'ownerId', 'profileId', 'incomingEmail', 'outgoingEmail', 'credentialUsername'];
  return Object.fromEntries(keep.map((k) => [k, typeof body[k] === 'string' ? (body[k] as string) : '']));
}
