// The admins' words (Dynamics 365 labels) for the profile enums, shared by the form, list and view pages.
export const SERVER_TYPE_LABELS = { IMAP: 'IMAP/SMTP Server', POP3: 'POP3/SMTP Server' } as const;
export const AUTH_LABELS = { GMAIL_OAUTH: 'Gmail OAuth', CREDENTIALS_PER_MAILBOX: 'Credentials Specified by a User or Queue' } as const;
export const SECURITY_LABELS = { SSL: 'SSL/TLS', STARTTLS: 'STARTTLS' } as const;

export const profileLabels = { serverType: SERVER_TYPE_LABELS, authenticateUsing: AUTH_LABELS, security: SECURITY_LABELS };
