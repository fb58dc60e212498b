// Pending Sign in to Gmail flows, kept in the session under their own state handle (several tabs can connect
// several mailboxes at once), and the passport-oauth2 state store (store/verify) that writes and takes them.
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';

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
  interface SessionData { gmailFlows?: Record<string, PendingFlow> }
}

export type FlowProblem = 'missing' | 'unknown' | 'expired' | 'other-user';
export type FlowLookup = { ok: true; flow: PendingFlow } | { ok: false; reason: FlowProblem };

/** The pending flow a callback's state names, if it belongs to this session and user and is fresh. */
export function findFlow(req: Request, state: string | undefined, userId: string, now: number): FlowLookup {
  if (!state) return { ok: false, reason: 'missing' };
  const flows = req.session.gmailFlows;
  const flow = flows && Object.hasOwn(flows, state) ? flows[state] : undefined;
  if (!flow) return { ok: false, reason: 'unknown' };
  if (!(now - flow.createdAt <= FLOW_TTL_MS)) return { ok: false, reason: 'expired' };
  if (flow.userId !== userId) return { ok: false, reason: 'other-user' };
  return { ok: true, flow };
}

export function dropFlow(req: Request, state: string): void {
  const flows = req.session.gmailFlows;
  if (!flows || !Object.hasOwn(flows, state)) return;
  delete flows[state];
  if (!Object.keys(flows).length) delete req.session.gmailFlows;
}

type StoreCb = (err: Error | null, handle?: string) => void;
type VerifyCb = (err: Error | null, ok: string | false, info?: { message: string }) => void;

/** passport-oauth2 calls store(req, verifier, state, meta, cb) and verify(req, state, cb): keep these arities. */
export class GmailFlowStore {
  constructor(private readonly userId: string, private readonly pending?: Pick<PendingFlow, 'kind' | 'mailboxId' | 'profileId'>,
    private readonly now: () => number = Date.now) {}

  store(req: Request, verifier: string, _state: unknown, _meta: unknown, cb: StoreCb): void {
    if (!this.pending) return cb(new Error('This Gmail flow store only verifies.'));
    const now = this.now();
    const flows = (req.session.gmailFlows ??= {});
    for (const [k, f] of Object.entries(flows)) if (!(now - f.createdAt <= FLOW_TTL_MS)) delete flows[k];
    const oldest = Object.entries(flows).sort((a, b) => a[1].createdAt - b[1].createdAt);
    while (oldest.length >= MAX_FLOWS) delete flows[oldest.shift()![0]];
    const handle = randomBytes(24).toString('base64url');
    flows[handle] = { ...this.pending, userId: this.userId, codeVerifier: verifier, createdAt: now };
    cb(null, handle);
  }

  /** Takes the flow out of the session (one use) and hands passport its PKCE code verifier. */
  verify(req: Request, state: string, cb: VerifyCb): void {
    const found = findFlow(req, state, this.userId, this.now());
    if (state) dropFlow(req, state);
    if (!found.ok) return cb(null, false, { message: 'Unable to verify authorization request state.' });
    cb(null, found.flow.codeVerifier);
  }
}
