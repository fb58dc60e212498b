// Bearer-token authentication for /api/v1: no cookie and no session is read, so there is nothing for CSRF to forge.
// The token's owner becomes req.user (the pages' access helpers then apply unchanged); refusals of known tokens
// (revoked, expired, owner disabled) are audited. The token itself is never logged or stored.
import type { NextFunction, Request, Response } from 'express';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { audit } from '../security/audit.ts';
import { checkToken } from '../tokens/service.ts';
import type { ApiContext } from './define.ts';
import { ApiProblem } from './problem.ts';
import type { TokenRateLimit } from './rate-limit.ts';

const CHALLENGE = 'Bearer realm="Mailroom API"';
const REFUSED = {
  unknown: 'This API token is not known. Create one under your account menu → API tokens.',
  revoked: 'This API token was revoked.',
  expired: 'This API token has expired. Create a new one under API tokens.',
  'owner-disabled': "This API token's owner is disabled.",
} as const;

const unauthorized = (detail: string, error = 'invalid_token') =>
  new ApiProblem(401, detail, { headers: { 'WWW-Authenticate': `${CHALLENGE}, error="${error}"` } });

export function bearerAuth(prisma: PrismaClient, limit: TokenRateLimit, logger: Logger) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const m = /^Bearer +([^\s]+) *$/i.exec(req.get('authorization') ?? '');
    if (!m) {
      throw new ApiProblem(401, 'Send an API token: Authorization: Bearer mrt_…', {
        headers: { 'WWW-Authenticate': CHALLENGE },
      });
    }
    const check = await checkToken(prisma, m[1], req.ip ?? null);
    if (!check.ok) {
      if (check.tokenId)
        await audit(prisma, {
          action: 'api.denied',
          result: 'DENIED',
          targetType: 'ApiToken',
          targetId: check.tokenId,
          ip: req.ip ?? null,
          details: { method: req.method, path: req.originalUrl.split('?')[0], reason: check.reason },
        }).catch((err) => logger.warn({ err }, 'a refused API request could not be audited'));
      throw unauthorized(REFUSED[check.reason]);
    }
    const verdict = await limit.admit(check.token.id);
    res.set({ 'RateLimit-Limit': String(verdict.limit), 'RateLimit-Remaining': String(verdict.remaining) });
    if (!verdict.allow)
      throw new ApiProblem(
        429,
        `This token sent more than ${verdict.limit} requests in a minute. Try again in ${verdict.retryAfterSeconds} s.`,
        { type: '/api/problems/rate-limited', headers: { 'Retry-After': String(verdict.retryAfterSeconds) } },
      );
    req.user = check.user;
    const ctx: ApiContext = {
      user: check.user,
      token: check.token,
      who: { actor: { id: check.user.id, email: check.user.email }, ip: req.ip ?? null },
      req,
    };
    res.locals.api = ctx;
    next();
  };
}

/** Every API request that changes something, with the token that made it (reads only update the token's last use). */
export function auditWrites(prisma: PrismaClient, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      res.on('finish', () => {
        const ctx = res.locals.api as ApiContext | undefined;
        if (!ctx) return;
        audit(prisma, {
          action: 'api.request',
          result: res.statusCode < 400 ? 'SUCCESS' : 'FAILURE',
          targetType: 'ApiToken',
          targetId: ctx.token.id,
          ...ctx.who,
          details: {
            tokenName: ctx.token.name,
            method: req.method,
            path: req.originalUrl.split('?')[0],
            status: res.statusCode,
          },
        }).catch((err) => logger.warn({ err }, 'an API request could not be audited'));
      });
    next();
  };
}
