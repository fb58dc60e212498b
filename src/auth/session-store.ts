// express-session store on the app's own database (the Session table), so sessions survive restarts and
// are shared by every process on PostgreSQL. Expired rows are swept periodically.
import session from 'express-session';
import type { PrismaClient } from '../generated/prisma/client.ts';

type Cb = (err?: unknown) => void;

/** A rolling session's expiry is written at most this often; the idle timeout stays exact to within it. */
export const TOUCH_INTERVAL_MS = 60_000;

export class PrismaSessionStore extends session.Store {
  private sweeper?: NodeJS.Timeout;
  private touched = new Map<string, number>();
  constructor(private prisma: PrismaClient, private idleMs: number) {
    super();
    this.sweeper = setInterval(() => { void this.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } }).catch(() => undefined); }, 10 * 60 * 1000);
    this.sweeper.unref();
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
    const data = JSON.stringify(sess);
    const expiresAt = this.expiry(sess);
    this.prisma.session.upsert({ where: { sid }, create: { sid, data, expiresAt }, update: { data, expiresAt } }).then(() => cb?.(), (e) => cb?.(e));
  }

  /** Every signed-in request touches its session; a write per page view is wasted work, so write once a minute. */
  override touch(sid: string, sess: session.SessionData, cb?: Cb): void {
    const now = Date.now();
    if (now - (this.touched.get(sid) ?? 0) < TOUCH_INTERVAL_MS) { cb?.(); return; }
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(sid, now);
    this.prisma.session.updateMany({ where: { sid }, data: { expiresAt: this.expiry(sess) } }).then(() => cb?.(), (e) => cb?.(e));
  }

  override destroy(sid: string, cb?: Cb): void {
    this.touched.delete(sid);
    this.prisma.session.deleteMany({ where: { sid } }).then(() => cb?.(), (e) => cb?.(e));
  }

  close(): void { if (this.sweeper) clearInterval(this.sweeper); }
}
