// The navigation's count of recent errors ("Alerts 3"): ERROR alerts of the last 24 hours a user may see, counted up
// to 100 and kept per user for 30 seconds, so pages do not pay a query each (issue 15: lean pages).
import type { Request, Response, NextFunction } from 'express';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { visibleAlertsWhere } from './access.ts';

export const RECENT_MS = 24 * 60 * 60_000;
const CAP = 100;

export function recentErrorCount(prisma: PrismaClient, user: Pick<PublicUser, 'id' | 'role'>, now = new Date()) {
  return prisma.alert.count({
    where: { ...visibleAlertsWhere(user), level: 'ERROR', createdAt: { gte: new Date(now.getTime() - RECENT_MS) } },
    take: CAP,
  });
}

/** "3", "99+" (at the cap), or null when there are none. */
export function countLabel(n: number): string | null {
  if (n <= 0) return null;
  return n >= CAP ? `${CAP - 1}+` : String(n);
}

/** Middleware: `res.locals.recentErrors` for pages a signed-in user opens (GET of HTML), cached per user. */
export function recentErrorsLocals(prisma: PrismaClient, o: { ttlMs?: number } = {}) {
  const ttl = o.ttlMs ?? 30_000;
  const cache = new Map<string, { at: number; label: string | null }>();
  return async (req: Request, res: Response, next: NextFunction) => {
    const user = req.user as PublicUser | undefined;
    if (!user || req.method !== 'GET' || req.accepts(['html', 'json']) !== 'html') return next();
    const now = Date.now();
    let hit = cache.get(user.id);
    if (!hit || now - hit.at > ttl) {
      hit = { at: now, label: countLabel(await recentErrorCount(prisma, user)) };
      if (cache.size > 10_000) cache.clear(); // bounded: a burst of distinct users only costs a recount
      cache.set(user.id, hit);
    }
    res.locals.recentErrors = hit.label;
    next();
  };
}
