// express-session store on the app's own database (the Session table), so sessions survive restarts and
// are shared by every process on PostgreSQL. Each row names its signed-in user (userId), so a user's sessions
// can be ended exactly. Expired rows are swept by the worker's pg-boss schedule (jobs/boss.ts), not here.
import session from 'express-session';
import type { PrismaClient } from '../generated/prisma/client.ts';

type Cb = (err?: unknown) => void;

/** A rolling session's expiry is written at most this often; the idle timeout stays exact to within it. */
export const TOUCH_INTERVAL_MS = 60_000;

/** The user a session is signed in as: passport keeps it at passport.user (removed again on sign-out). */
export function sessionUserId(sess: session.SessionData): string | null {
  const id = sess.passport?.user;
  return typeof id === 'string' && id ? id : null;
}

export class PrismaSessionStore extends session.Store {
  private touched = new Map<string, number>();
  constructor(
    private prisma: PrismaClient,
    private idleMs: number,
  ) {
    super();
  }

  private expiry(sess: session.SessionData): Date {
    return sess.cookie?.expires ? new Date(sess.cookie.expires) : new Date(Date.now() + this.idleMs);
  }

  override get(sid: string, cb: (err: unknown, sess?: session.SessionData | null) => void): void {
    this.prisma.session.findUnique({ where: { sid } }).then((row) => {
      if (!row || row.expiresAt < new Date()) return cb(null, null);
      cb(null, JSON.parse(row.data));
    }, cb);
  }

  override set(sid: string, sess: session.SessionData, cb?: Cb): void {
    const row = { data: JSON.stringify(sess), expiresAt: this.expiry(sess), userId: sessionUserId(sess) };
    this.prisma.session.upsert({ where: { sid }, create: { sid, ...row }, update: row }).then(
      () => cb?.(),
      (e) => cb?.(e),
    );
  }

  /** Every signed-in request touches its session; a write per page view is wasted work, so write once a minute. */
  override touch(sid: string, sess: session.SessionData, cb?: Cb): void {
    const now = Date.now();
    if (now - (this.touched.get(sid) ?? 0) < TOUCH_INTERVAL_MS) {
      cb?.();
      return;
    }
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(sid, now);
    this.prisma.session.updateMany({ where: { sid }, data: { expiresAt: this.expiry(sess) } }).then(
      () => cb?.(),
      (e) => cb?.(e),
    );
  }

  override destroy(sid: string, cb?: Cb): void {
    this.touched.delete(sid);
    this.prisma.session.deleteMany({ where: { sid } }).then(
      () => cb?.(),
      (e) => cb?.(e),
    );
  }
}

/** Ends every session of one user (all devices); returns how many there were. */
export async function endUserSessions(prisma: Pick<PrismaClient, 'session'>, userId: string): Promise<number> {
  const { count } = await prisma.session.deleteMany({ where: { userId } });
  return count;
}
