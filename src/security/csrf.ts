// CSRF protection (csrf-csrf, signed double-submit cookie bound to the session). Every state-changing
// request carries the token as the _csrf form field or the x-csrf-token header.
import { doubleCsrf } from 'csrf-csrf';
import type { Request } from 'express';

export function createCsrf(secret: string, secure: boolean) {
  return doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req: Request) => req.session?.id ?? '',
    cookieName: secure ? '__Host-mailroom.x-csrf' : 'mailroom.x-csrf',
    cookieOptions: { sameSite: 'lax', path: '/', secure, httpOnly: true },
    getCsrfTokenFromRequest: (req: Request) =>
      (req.body as Record<string, string> | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined),
  });
}
