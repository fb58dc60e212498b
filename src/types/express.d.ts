// Typing for what Mailroom keeps in the session.
import 'express-session';

export interface Flash {
  type: 'success' | 'error' | 'info' | 'warning';
  text: string;
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
