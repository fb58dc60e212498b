// Gmail presets: the server settings Google documents for IMAP or POP3 with SMTP, used to pre-fill the profile form.
import type { ProfileFormValues } from './form.ts';

export const GMAIL_SMTP = {
  STARTTLS: { outgoingPort: '587', outgoingSecurity: 'STARTTLS' },
  SSL: { outgoingPort: '465', outgoingSecurity: 'SSL' },
} as const;

/**
 * One Gmail OAuth profile serves at most 100 mailboxes (the per-profile cap), and each enabled mailbox holds one IDLE
 * connection: 100 lets every one of them stay connected (decision 022). Counted per profile across all processes.
 */
export const GMAIL_MAX_CONCURRENT_CONNECTIONS = '100';

const common = {
  outgoingServer: 'smtp.gmail.com',
  ...GMAIL_SMTP.STARTTLS,
  authenticateUsing: 'GMAIL_OAUTH',
  incomingUseSsl: true,
  maxConcurrentConnections: GMAIL_MAX_CONCURRENT_CONNECTIONS,
} as const;

export const PRESETS = {
  'gmail-imap': {
    label: 'Start from Gmail (IMAP)',
    values: { ...common, serverType: 'IMAP', incomingServer: 'imap.gmail.com', incomingPort: '993' },
  },
  'gmail-pop3': {
    label: 'Start from Gmail (POP3)',
    values: { ...common, serverType: 'POP3', incomingServer: 'pop.gmail.com', incomingPort: '995' },
  },
} as const satisfies Record<string, { label: string; values: Partial<ProfileFormValues> }>;

export type PresetName = keyof typeof PRESETS;

export function isPresetName(value: unknown): value is PresetName {
  return typeof value === 'string' && Object.hasOwn(PRESETS, value);
}

/** The preset's form values; `smtp: 'ssl'` picks port 465 with SSL/TLS instead of 587 with STARTTLS. */
export function presetValues(name: PresetName, smtp: 'starttls' | 'ssl' = 'starttls'): Partial<ProfileFormValues> {
  return { ...PRESETS[name].values, ...(smtp === 'ssl' ? GMAIL_SMTP.SSL : {}) };
}
