// express-session store on the app's own database (the Session table), so sessions survive restarts and are shared by
// every process on PostgreSQL. Each row names its signed-in user (userId), so a user's sessions can be ended exactly.
// A session ends after SESSION_IDLE_MINUTES without a request (to within IDLE_PRECISION_MS) or SESSION_MAX_HOURS
// after it began (docs/decisions/017). Expired rows are swept by the worker's pg-boss schedule, not here.
import session from 'express-session';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { RawSql } from '../db/client.ts';
import type { PublicUser } from './users.ts';

type Cb = (err?: unknown) => void;

/**
 * The stored idle expiry is rewritten only once it has fallen this far behind the exact one, so a burst of requests
 * (a page and its live updates) writes once, and a session idle for SESSION_IDLE_MINUTES ends within this much of it.
 */
export const IDLE_PRECISION_MS = 5_000;

export interface SessionLifetime {
  /** Sign-out after this long without a request (SESSION_IDLE_MINUTES). */
  idleMs: number;
  /** Sign-out this long after the session began, however active (SESSION_MAX_HOURS). */
  maxMs: number;
  /** How long a session read from the database answers this process's next requests (SESSION_CACHE_MS; 0: never). */
  cacheMs: number;
}

/** The user a session is signed in as: passport keeps it at passport.user (removed again on sign-out). */
export function sessionUserId(sess: session.SessionData): string | null {
  const id = sess.passport?.user;
  return typeof id === 'string' && id ? id : null;
}

// Times as epoch milliseconds and the role as text: plain numbers and strings from either adapter.
const SESSION_WITH_USER = `
  SELECT s.data, s."userId",
         (extract(epoch FROM s."expiresAt") * 1000)::float8 AS "expiresMs",
         (extract(epoch FROM s."createdAt") * 1000)::float8 AS "createdMs",
         u.email, u.name, u.role::text AS role,
         (extract(epoch FROM u."disabledAt") * 1000)::float8 AS "disabledMs",
         (extract(epoch FROM u."createdAt") * 1000)::float8 AS "userCreatedMs"
  FROM "Session" s LEFT JOIN "User" u ON u.id = s."userId"
  WHERE s.sid = $1`;

interface SessionWithUser {
  data: string;
  userId: string | null;
  expiresMs: number;
  createdMs: number;
  email: string | null;
  name: string | null;
  role: string | null;
  disabledMs: number | null;
  userCreatedMs: number | null;
}

/** The user's public fields from the joined row; null when the session names a user that no longer exists. */
function publicUserOf(r: SessionWithUser): PublicUser | null {
  if (r.userId === null || r.email === null || r.userCreatedMs === null) return null;
  return {
    id: r.userId,
    email: r.email,
    name: r.name ?? '',
    role: r.role as PublicUser['role'],
    disabledAt: r.disabledMs === null ? null : new Date(r.disabledMs),
    createdAt: new Date(r.userCreatedMs),
  };
}

/**
 * A session as read, kept for SESSION_CACHE_MS so a page's requests (the page, its live updates) read the row once
 * (docs/decisions/033). Only a session that holds nothing but its cookie and its sign-in is kept: one carrying a
 * flash message, a return path or a sign-in state is read every time, so none of those can be missed or shown twice.
 * In this process a sign-out, a session write and endUserSessions drop the entry at once; another process's writes
 * are seen within SESSION_CACHE_MS.
 */
interface Cached {
  /** The stored JSON, parsed anew for each request: every request gets a session object of its own. */
  data: string;
  userId: string | null;
  user: PublicUser | null;
  expiresAt: number;
  createdAt: number;
  /** When the row was read (the store's clock). */
  readAt: number;
}

/** express-session's cookie and passport's user, nothing else (both written in this order by JSON.stringify). */
const PLAIN = /^\{"cookie":\{[^{}]*\}(,"passport":\{"user":"[^"\\]*"\})?\}$/;

/** Session writes and revocations in this process so far: a read that overlapped one is not cached. */
let writes = 0;
/** Every store of this process (the tests build many apps in one process), for forgetUserSessions. */
const stores = new Set<WeakRef<PrismaSessionStore>>();

export class PrismaSessionStore extends session.Store {
  /**
   * What get() last read of a session (its stored expiry and start), for the set() or touch() that ends a request of
   * it: every process decides from the row itself, so several processes agree without talking. Kept after a touch
   * (the session's other requests in flight read the same row); set() and destroy() drop it.
   */
  private loaded = new Map<string, { expiresAt: number; createdAt: number }>();
  /** The idle expiry a touch of this process is writing, per session, until the write ends. */
  private touching = new Map<string, number>();
  private prisma: PrismaClient;
  private raw: RawSql;
  constructor(
    db: { prisma: PrismaClient; raw: RawSql },
    private life: SessionLifetime,
    private now: () => number = Date.now,
  ) {
    super();
    this.prisma = db.prisma;
    this.raw = db.raw;
    stores.add(new WeakRef(this));
  }

  private cache = new Map<string, Cached>();

  /** Idle expiry from now, never past the absolute end. */
  private expiry(createdAt: number): Date {
    return new Date(Math.min(this.now() + this.life.idleMs, createdAt + this.life.maxMs));
  }

  private remember(sid: string, row: { expiresAt: number; createdAt: number }): void {
    if (this.loaded.size > 10_000) this.loaded.clear(); // one per session read lately: bounded
    this.loaded.set(sid, row);
  }

  /** The signed-in user get() read with the session row, for passport's deserializeUser in the same request. */
  private users = new Map<string, PublicUser | null>();

  /** The user read with this session in the current request (taken: a later request reads again), if any. */
  userReadWith(sid: string): PublicUser | null | undefined {
    const u = this.users.get(sid);
    this.users.delete(sid);
    return u;
  }

  override get(sid: string, cb: (err: unknown, sess?: session.SessionData | null) => void): void {
    const hit = this.cache.get(sid);
    if (hit && this.now() - hit.readAt < this.life.cacheMs) return this.answer(sid, hit, cb);
    const epoch = writes;
    // One statement for the session and its user: every signed-in request starts here (issue 15, decision 021). On the
    // raw driver: through Prisma's $queryRawUnsafe the same statement cost a tenth of a signed-in page's CPU (033).
    this.raw.query<SessionWithUser>(SESSION_WITH_USER, [sid]).then(([row]) => {
      if (!row) {
        this.cache.delete(sid);
        return cb(null, null);
      }
      const read: Cached = {
        data: row.data,
        userId: row.userId,
        user: row.userId === null ? null : publicUserOf(row),
        expiresAt: row.expiresMs,
        createdAt: row.createdMs,
        readAt: this.now(),
      };
      // Kept only when no session was written or ended in this process while the statement ran (it may have read the
      // row from before), and only a session that carries nothing but its sign-in (see Cached).
      if (this.life.cacheMs > 0 && epoch === writes && PLAIN.test(row.data)) {
        if (this.cache.size > 10_000) this.cache.clear();
        this.cache.set(sid, read);
      } else this.cache.delete(sid);
      this.answer(sid, read, cb);
    }, cb);
  }

  /** The session as read (now or within cacheMs): null once past its idle or absolute end. */
  private answer(sid: string, r: Cached, cb: (err: unknown, sess?: session.SessionData | null) => void): void {
    const now = this.now();
    if (r.expiresAt <= now || r.createdAt + this.life.maxMs <= now) return cb(null, null);
    this.remember(sid, { expiresAt: r.expiresAt, createdAt: r.createdAt });
    if (this.users.size > 10_000) this.users.clear(); // requests that never asked for their user
    this.users.set(sid, r.user && { ...r.user });
    cb(null, JSON.parse(r.data));
  }

  /** Drops what this process read of a session, before and after a write: a read overlapping the write is not kept. */
  private forget(sid: string): void {
    writes++;
    this.cache.delete(sid);
  }

  /** Writes a session row (set, destroy), dropping what this process read of it before and after, whatever the outcome. */
  private write(sid: string, op: () => Promise<unknown>, cb?: Cb): void {
    this.forget(sid);
    op().then(
      () => {
        this.forget(sid);
        cb?.();
      },
      (e) => {
        this.forget(sid);
        cb?.(e);
      },
    );
  }

  /** Drops every cached session of one user (endUserSessions: disabled, signed out everywhere). */
  forgetUser(userId: string): void {
    for (const [sid, c] of this.cache) if (c.userId === userId) this.cache.delete(sid);
  }

  override set(sid: string, sess: session.SessionData, cb?: Cb): void {
    const createdAt = this.loaded.get(sid)?.createdAt ?? this.now();
    this.loaded.delete(sid);
    const row = { data: JSON.stringify(sess), expiresAt: this.expiry(createdAt), userId: sessionUserId(sess) };
    this.write(
      sid,
      () =>
        this.prisma.session.upsert({
          where: { sid },
          create: { sid, ...row, createdAt: new Date(createdAt) },
          update: row,
        }),
      cb,
    );
  }

  /**
   * Every request touches its session; write the new idle expiry only when the stored one (or the one this process is
   * writing) lags by the precision. What get() read stays for the session's other requests: taken by the first touch,
   * a session's concurrent requests (a page and its live-status polls; the bench's 10 connections) each found nothing
   * and wrote the row, nearly every request (decision 040).
   */
  override touch(sid: string, _sess: session.SessionData, cb?: Cb): void {
    const loaded = this.loaded.get(sid);
    const next = this.expiry(loaded?.createdAt ?? this.now()).getTime();
    const known = Math.max(loaded?.expiresAt ?? 0, this.touching.get(sid) ?? 0);
    if (loaded && next - known < IDLE_PRECISION_MS) {
      cb?.();
      return;
    }
    if (this.touching.size > 10_000) this.touching.clear();
    this.touching.set(sid, next);
    const done = () => {
      if (this.touching.get(sid) === next) this.touching.delete(sid);
    };
    this.prisma.session.updateMany({ where: { sid }, data: { expiresAt: new Date(next) } }).then(
      () => {
        for (const r of [this.cache.get(sid), this.loaded.get(sid)]) if (r) r.expiresAt = Math.max(r.expiresAt, next);
        done();
        cb?.();
      },
      (e) => {
        done();
        cb?.(e);
      },
    );
  }

  override destroy(sid: string, cb?: Cb): void {
    this.loaded.delete(sid);
    this.write(sid, () => this.prisma.session.deleteMany({ where: { sid } }), cb);
  }
}

/**
 * Drops every session of this user that a store of this process holds (not the rows: endUserSessions deletes those).
 * A caller that deletes inside a transaction calls it again after the commit: a request that read the rows between
 * the first call and the commit saw them still there.
 */
export function forgetUserSessions(userId: string): void {
  writes++;
  for (const ref of stores) {
    const store = ref.deref();
    if (store) store.forgetUser(userId);
    else stores.delete(ref);
  }
}

/** Ends every session of one user (all devices); returns how many there were. */
export async function endUserSessions(prisma: Pick<PrismaClient, 'session'>, userId: string): Promise<number> {
  forgetUserSessions(userId);
  const { count } = await prisma.session.deleteMany({ where: { userId } });
  forgetUserSessions(userId);
  return count;
}
