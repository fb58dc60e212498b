// The admins' words (Dynamics 365 labels) for the profile enums, shared by the form, list and view pages, and the
// Authenticate Using facts the views need (methods[…].oauthClient: show the redirect URI).
import type { AuthenticateUsing } from '../generated/prisma/enums.ts';
import { AUTH_METHODS } from '../mail/auth-methods.ts';

export const SERVER_TYPE_LABELS = { IMAP: 'IMAP/SMTP Server', POP3: 'POP3/SMTP Server' } as const;
export const AUTH_LABELS = Object.fromEntries(Object.entries(AUTH_METHODS).map(([k, m]) => [k, m.label])) as Readonly<
  Record<AuthenticateUsing, string>
>;
export const SECURITY_LABELS = { SSL: 'SSL/TLS', STARTTLS: 'STARTTLS' } as const;

export const profileLabels = {
  serverType: SERVER_TYPE_LABELS,
  authenticateUsing: AUTH_LABELS,
  security: SECURITY_LABELS,
  methods: AUTH_METHODS,
};
