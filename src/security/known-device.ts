// The known-browser cookie of sign-in throttling: after a successful sign-in the browser gets a random id signed
// together with the account, and while it presents it, that account's throttle counts only this browser's own
// failures. An owner keeps a way in while strangers guess at their account (docs/decisions/016).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

const MAX_AGE_MS = 180 * 24 * 3_600_000;

export interface KnownDevices {
  /** The device id when the request carries a valid cookie for this account, else null. */
  idFor(req: Request, account: string): string | null;
  /** After a successful sign-in: keep a valid cookie for this account, or issue one (one account per browser). */
  remember(req: Request, res: Response, account: string): void;
}

export function knownDevices(secret: string, secure: boolean): KnownDevices {
  const name = secure ? '__Host-mailroom.device' : 'mailroom.device';
  const sign = (id: string, account: string) =>
    createHmac('sha256', secret).update(`login-device\0${id}\0${account}`).digest('base64url');
  const idFor = (req: Request, account: string): string | null => {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
    if (typeof value !== 'string' || !account) return null;
    const [id, sig, extra] = value.split('.');
    if (!id || !sig || extra !== undefined || !/^[\w-]{22}$/.test(id)) return null;
    const want = Buffer.from(sign(id, account));
    const got = Buffer.from(sig);
    return got.length === want.length && timingSafeEqual(got, want) ? id : null;
  };
  return {
    idFor,
    remember(req, res, account) {
      if (idFor(req, account)) return;
      const id = randomBytes(16).toString('base64url');
      res.cookie(name, `${id}.${sign(id, account)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure,
        path: '/',
        maxAge: MAX_AGE_MS,
      });
    },
  };
}
