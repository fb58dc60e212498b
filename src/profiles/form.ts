// The profile form: raw body → form values (for re-rendering) → validated input, with field errors and
// non-blocking warnings. The Client Secret never becomes a form value, so it is never rendered back.
import { z } from 'zod';
import { hostError } from './host.ts';
import type { FieldErrors } from '../web/forms.ts';
import { fieldErrors } from '../web/forms.ts';
import type { EmailServerProfile } from '../generated/prisma/client.ts';

export const GOOGLE_CLIENT_ID_SUFFIX = '.apps.googleusercontent.com';
export const LIMITS = { name: 100, description: 2000, clientId: 255, clientSecret: 500 } as const;

/** What the form shows: text as typed, ticks as booleans. No secret here by design. */
export interface ProfileFormValues {
  name: string;
  description: string;
  serverType: string;
  incomingServer: string;
  incomingPort: string;
  incomingUseSsl: boolean;
  outgoingServer: string;
  outgoingPort: string;
  outgoingSecurity: string;
  authenticateUsing: string;
  oauthClientId: string;
  clearClientSecret: boolean;
  isDefaultGmail: boolean;
  googleAppInTesting: boolean;
  maxConcurrentConnections: string;
  minPollingIntervalMinutes: string;
  processEmailFrom: string;
  moveFailedToUndeliverable: boolean;
}

const TEXT = [
  'name',
  'description',
  'serverType',
  'incomingServer',
  'incomingPort',
  'outgoingServer',
  'outgoingPort',
  'outgoingSecurity',
  'authenticateUsing',
  'oauthClientId',
  'maxConcurrentConnections',
  'minPollingIntervalMinutes',
  'processEmailFrom',
] as const;
const TICKS = [
  'incomingUseSsl',
  'clearClientSecret',
  'isDefaultGmail',
  'googleAppInTesting',
  'moveFailedToUndeliverable',
] as const;

export const DEFAULT_VALUES: ProfileFormValues = {
  name: '',
  description: '',
  serverType: 'IMAP',
  incomingServer: '',
  incomingPort: '',
  incomingUseSsl: true,
  outgoingServer: '',
  outgoingPort: '',
  outgoingSecurity: 'STARTTLS',
  authenticateUsing: 'GMAIL_OAUTH',
  oauthClientId: '',
  clearClientSecret: false,
  isDefaultGmail: false,
  googleAppInTesting: false,
  maxConcurrentConnections: '10',
  minPollingIntervalMinutes: '0',
  processEmailFrom: '',
  moveFailedToUndeliverable: false,
};

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const ticked = (v: unknown) => v === 'on' || v === 'true' || v === '1';

export function formValuesFromBody(body: Record<string, unknown>): ProfileFormValues {
  const out = { ...DEFAULT_VALUES };
  for (const k of TEXT) out[k] = text(body[k]);
  for (const k of TICKS) out[k] = ticked(body[k]);
  return out;
}

export function formValuesFromProfile(p: EmailServerProfile): ProfileFormValues {
  return {
    name: p.name,
    description: p.description,
    serverType: p.serverType,
    incomingServer: p.incomingServer,
    incomingPort: String(p.incomingPort),
    incomingUseSsl: p.incomingUseSsl,
    outgoingServer: p.outgoingServer,
    outgoingPort: String(p.outgoingPort),
    outgoingSecurity: p.outgoingSecurity,
    authenticateUsing: p.authenticateUsing,
    oauthClientId: p.oauthClientId ?? '',
    clearClientSecret: false,
    isDefaultGmail: p.isDefaultGmail,
    googleAppInTesting: p.googleAppInTesting,
    maxConcurrentConnections: String(p.maxConcurrentConnections),
    minPollingIntervalMinutes: String(p.minPollingIntervalMinutes),
    processEmailFrom: p.processEmailFrom ? p.processEmailFrom.toISOString().slice(0, 10) : '',
    moveFailedToUndeliverable: p.moveFailedToUndeliverable,
  };
}

const wholeNumber = (min: number, max: number) => {
  const msg = `Enter a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, msg)
    .transform(Number)
    .pipe(z.number().min(min, msg).max(max, msg));
};
const port = wholeNumber(1, 65535);
const host = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const e = hostError(v);
    if (e) ctx.addIssue({ code: 'custom', message: e });
  });
const date = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (!v) return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
    if (!d || d.toISOString().slice(0, 10) !== v || +m![1] < 1970) {
      ctx.addIssue({ code: 'custom', message: 'Enter a date as YYYY-MM-DD, from 1970 on' });
      return z.NEVER;
    }
    return d;
  });

export const profileSchema = z.object({
  name: z.string().trim().min(1, 'Enter a name').max(LIMITS.name, `Use at most ${LIMITS.name} characters`),
  description: z.string().trim().max(LIMITS.description, `Use at most ${LIMITS.description} characters`),
  serverType: z.enum(['IMAP', 'POP3'], { error: 'Choose a server type' }),
  incomingServer: host,
  incomingPort: port,
  incomingUseSsl: z.boolean(),
  outgoingServer: host,
  outgoingPort: port,
  outgoingSecurity: z.enum(['SSL', 'STARTTLS'], { error: 'Choose SSL/TLS or STARTTLS' }),
  authenticateUsing: z.enum(['GMAIL_OAUTH', 'CREDENTIALS_PER_MAILBOX'], { error: 'Choose how mailboxes authenticate' }),
  oauthClientId: z
    .string()
    .trim()
    .max(LIMITS.clientId, `Use at most ${LIMITS.clientId} characters`)
    .transform((v) => v || null),
  isDefaultGmail: z.boolean(),
  googleAppInTesting: z.boolean(),
  maxConcurrentConnections: wholeNumber(1, 300),
  minPollingIntervalMinutes: wholeNumber(0, 1440),
  processEmailFrom: date,
  moveFailedToUndeliverable: z.boolean(),
});

/** The profile columns the form sets (everything but the secret, the owner and timestamps). */
export type ProfileData = z.output<typeof profileSchema>;
export type SecretChange = { kind: 'keep' } | { kind: 'set'; value: string } | { kind: 'clear' };

export type ParsedForm =
  | { ok: true; data: ProfileData; secret: SecretChange; values: ProfileFormValues; warnings: FieldErrors }
  | { ok: false; errors: FieldErrors; values: ProfileFormValues; warnings: FieldErrors };

/** Non-blocking advice about values that are valid but probably wrong. */
export function profileWarnings(v: Pick<ProfileFormValues, 'authenticateUsing' | 'oauthClientId'>): FieldErrors {
  const id = v.oauthClientId.trim();
  return v.authenticateUsing === 'GMAIL_OAUTH' && id && !id.endsWith(GOOGLE_CLIENT_ID_SUFFIX)
    ? {
        oauthClientId: `Google Client Ids end in ${GOOGLE_CLIENT_ID_SUFFIX}. Check that you copied the Client Id, not the project number or the Client Secret.`,
      }
    : {};
}

/**
 * Validates a submitted profile form. `hasStoredSecret` is true on edit when a Client Secret is stored:
 * then a blank secret keeps it, unless "Clear the stored client secret" is ticked.
 */
export function parseProfileForm(body: Record<string, unknown>, opts: { hasStoredSecret: boolean }): ParsedForm {
  const values = formValuesFromBody(body);
  const secret = text(body.oauthClientSecret).trim();
  const warnings = profileWarnings(values);
  const parsed = profileSchema.safeParse(values);
  const errors: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error);
  const gmail = values.authenticateUsing === 'GMAIL_OAUTH';
  const willHaveSecret = secret !== '' || (opts.hasStoredSecret && !values.clearClientSecret);
  if (secret.length > LIMITS.clientSecret) errors.oauthClientSecret = `Use at most ${LIMITS.clientSecret} characters`;
  if (gmail && !values.oauthClientId.trim()) errors.oauthClientId ??= 'Enter the Client Id of your Google OAuth client';
  if (gmail && !willHaveSecret) {
    errors.oauthClientSecret ??= opts.hasStoredSecret
      ? 'Enter a new Client Secret, or untick "Clear the stored client secret": Gmail OAuth needs one'
      : 'Enter the Client Secret of your Google OAuth client';
  }
  if (values.isDefaultGmail && !gmail)
    errors.isDefaultGmail = 'Only a Gmail OAuth profile can be the default profile for Connect Gmail';
  if (values.googleAppInTesting && !gmail)
    errors.googleAppInTesting = 'Only a Gmail OAuth profile has a Google app: untick this, or choose Gmail OAuth';
  if (!parsed.success || Object.keys(errors).length) return { ok: false, errors, values, warnings };
  const change: SecretChange = secret
    ? { kind: 'set', value: secret }
    : values.clearClientSecret && opts.hasStoredSecret
      ? { kind: 'clear' }
      : { kind: 'keep' };
  return { ok: true, data: parsed.data, secret: change, values, warnings };
}
