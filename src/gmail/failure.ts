// Every way a finished Sign in to Gmail can fail is one SignInFailure, and signInFailed is its one handler: revoke
// what Google just granted (unless another mailbox shares that grant), audit, render the result page. Nothing was
// stored when one is thrown.
import type { ErrorRequestHandler } from 'express';
import type { AppDeps } from '../deps.ts';
import { audit, actorOf } from '../security/audit.ts';
import type { PendingFlow } from './flow-store.ts';
import { revokeQuietly } from './grants.ts';
import { renderResult, type ResultPage } from './pages.ts';

export interface FailureAudit {
  flow: PendingFlow;
  reason: string;
  details?: Record<string, unknown>;
}
/** Tokens Google issued for this failed attempt, and whose they are (to tell whether revoking would hurt another mailbox). */
export interface Issued {
  token: string | undefined;
  googleEmail: string;
  clientId: string;
}

export class SignInFailure extends Error {
  constructor(
    readonly status: number,
    readonly page: ResultPage,
    readonly audited?: FailureAudit,
    readonly issued?: Issued,
  ) {
    super(page.title);
  }
}

export function signInFailed(deps: Pick<AppDeps, 'db' | 'sealer' | 'logger' | 'google'>): ErrorRequestHandler {
  return async (err, req, res, next) => {
    if (!(err instanceof SignInFailure)) return next(err);
    const revoked = err.issued
      ? await revokeQuietly(deps, err.issued.token, {
          googleEmail: err.issued.googleEmail,
          clientId: err.issued.clientId,
        })
      : undefined;
    if (err.audited) {
      const { flow, reason, details } = err.audited;
      await audit(deps.db.prisma, {
        action: 'gmail.connect',
        result: 'FAILURE',
        targetType: 'Mailbox',
        targetId: flow.mailboxId,
        ...actorOf(req),
        details: { reason, via: flow.kind, ...details, ...(revoked ? { revoked } : {}) },
      });
    }
    res.set('Cache-Control', 'no-store');
    renderResult(res, err.status, err.page);
  };
}
