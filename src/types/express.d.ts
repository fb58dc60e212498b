// Typing for what Mailroom keeps in the session.
import 'express-session';

export interface Flash {
  type: 'success' | 'error' | 'info' | 'warning';
  text: string;
  /** An event that makes the message obsolete, for the page's script to remove it, e.g. "tested:<mailbox id>". */
  until?: string;
}

declare module 'express-session' {
  interface SessionData {
    returnTo?: string;
    flash?: Flash[];
    anon?: boolean;
    passport?: { user?: string };
    [key: string]: unknown;
  }
}
