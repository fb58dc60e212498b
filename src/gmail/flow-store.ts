// Pending Sign in to Gmail flows, kept in the session under their own state handle (several tabs can connect
// several mailboxes at once): written when a flow starts, taken out (looked up once, one use) when Google answers.
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { PkceStateStore } from './strategy.ts';

export const FLOW_TTL_MS = 15 * 60_000;
const MAX_FLOWS = 10;

export interface PendingFlow {
  /** 'mailbox': Sign in to Gmail for an existing mailbox; 'connect': one-click Connect Gmail creates one. */
  kind: 'mailbox' | 'connect';
  mailboxId?: string;
  profileId: string;
  userId: string;
  codeVerifier: string;
  createdAt: number;
}

declare module 'express-session' {
  interface SessionData {
    gmailFlows?: Record<string, PendingFlow>;
  }
}

export type FlowProblem = 'missing' | 'unknown' | 'expired' | 'other-user';
export type FlowLookup = { ok: true; state: string; flow: PendingFlow } | { ok: false; reason: FlowProblem };

/**
 * Takes the pending flow a callback's state names out of the session, if it belongs to this session and user and
 * is fresh. A flow that does not qualify stays (it may still be finished in its own session by its own user).
 */
export function takeFlow(req: Request, state: string | undefined, userId: string, now: number): FlowLookup {
  if (!state) return { ok: false, reason: 'missing' };
  const flows = req.session.gmailFlows;
  const flow = flows && Object.hasOwn(flows, state) ? flows[state] : undefined;
  if (!flow) return { ok: false, reason: 'unknown' };
  if (!(now - flow.createdAt <= FLOW_TTL_MS)) return { ok: false, reason: 'expired' };
  if (flow.userId !== userId) return { ok: false, reason: 'other-user' };
  delete flows![state];
  if (!Object.keys(flows!).length) delete req.session.gmailFlows;
  return { ok: true, state, flow };
}

/** The state store a flow starts with: records the pending flow and its PKCE verifier under a fresh handle. */
export function pendingFlowStore(
  pending: Pick<PendingFlow, 'kind' | 'mailboxId' | 'profileId' | 'userId'>,
  now: () => number = Date.now,
): PkceStateStore {
  return {
    store(req, verifier, _state, _meta, cb) {
      const at = now();
      const flows = (req.session.gmailFlows ??= {});
      for (const [k, f] of Object.entries(flows)) if (!(at - f.createdAt <= FLOW_TTL_MS)) delete flows[k];
      const oldest = Object.entries(flows).sort((a, b) => a[1].createdAt - b[1].createdAt);
      while (oldest.length >= MAX_FLOWS) delete flows[oldest.shift()![0]];
      const handle = randomBytes(24).toString('base64url');
      flows[handle] = { ...pending, codeVerifier: verifier, createdAt: at };
      cb(null, handle);
    },
    verify: (_req, _state, cb) => cb(new Error('A starting Gmail flow has nothing to verify.'), false),
  };
}

/** The state store of a callback whose flow was already taken: hands passport that flow's PKCE verifier. */
export function takenFlowStore(taken: { state: string; flow: PendingFlow }): PkceStateStore {
  return {
    store: (_req, _verifier, _state, _meta, cb) => cb(new Error('A finishing Gmail flow stores nothing.')),
    verify: (_req, state, cb) =>
      state === taken.state
        ? cb(null, taken.flow.codeVerifier)
        : cb(null, false, { message: 'Unable to verify authorization request state.' }),
  };
}
