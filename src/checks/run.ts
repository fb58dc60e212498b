// One Test & Enable run for one mailbox: the credentials provider's checks, then the incoming and outgoing protocols'
// probes in parallel. Returns the step report; never throws for a check that fails.
import type { Step, MailAuth, ProbeOptions } from '../mail/types.ts';
import { codedFailStep, skipStep, STEP } from '../mail/steps.ts';
import type { KeyedLimiter } from '../mail/limiter.ts';
import type { ConnectionSemaphore, SlotClaim } from '../cluster/semaphore.ts';
import { connectionClaims } from '../sync/connections.ts';
import type { MailProtocol } from '../mail/protocol.ts';
import type { ProtocolRegistry } from '../mail/protocols.ts';
import { mailboxCredentialFields, profileCredentialFields } from '../mail/credentials.ts';
import type { Prisma } from '../generated/prisma/client.ts';

/** What a run reads of the mailbox and its profile: the job selects exactly this, the types follow from it. */
export const testMailboxSelect = {
  ...mailboxCredentialFields,
  incomingEmail: true,
  outgoingEmail: true,
  emailApproval: true,
  retryCount: true,
  profile: {
    select: {
      ...profileCredentialFields,
      serverType: true,
      incomingServer: true,
      incomingPort: true,
      incomingUseSsl: true,
      outgoingServer: true,
      outgoingPort: true,
      outgoingSecurity: true,
      maxConcurrentConnections: true,
    },
  },
} as const satisfies Prisma.MailboxSelect;

export type TestMailbox = Prisma.MailboxGetPayload<{ select: typeof testMailboxSelect }>;
type TestProfile = NonNullable<TestMailbox['profile']>;

/** What the token step produced: credentials for the probes, or the failed step(s) that stop the run. */
export type Credentials = { ok: true; auth: MailAuth; steps: Step[] } | { ok: false; steps: Step[] };

export interface RunEnv {
  credentials(mb: TestMailbox & { profile: TestProfile }): Promise<Credentials>;
  protocols: ProtocolRegistry;
  limiter: KeyedLimiter;
  /**
   * The cluster's connection budget, shared with synchronization across processes (decision 012): a probe takes a
   * slot of the mailbox's Maximum Concurrent Connections (and Gmail's per-account IMAP limit) and asks an IDLE session
   * holding it to yield. Without it (unit tests), the in-process limiter counts per profile.
   */
  semaphore?: ConnectionSemaphore;
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  sendTestMessageTo?: string;
}

const SSS = 'SERVER_SIDE_SYNC';

/** Every step a protocol would have reported, as skipped: why, or that its side is not synchronised at all. */
function skipped(protocol: MailProtocol, checked: boolean, why: string): Step[] {
  const side = protocol.direction === 'incoming' ? 'Incoming' : 'Outgoing';
  return protocol.steps.map((s) =>
    skipStep(s.id, s.label, checked ? why : `${side} Email is not Server-Side Synchronization.`),
  );
}

export async function runChecks(mb: TestMailbox, env: RunEnv): Promise<Step[]> {
  const incoming = mb.incomingEmail === SSS;
  const outgoing = mb.outgoingEmail === SSS;
  const serverType = { serverType: mb.profile?.serverType ?? 'IMAP' } as const; // without a profile: the default's labels
  const inbound = env.protocols.incomingFor(serverType);
  const outbound = env.protocols.outgoingFor(serverType);
  const skipRest = (why: string): Step[] => [...skipped(inbound, incoming, why), ...skipped(outbound, outgoing, why)];
  if (!mb.profile) {
    return [
      codedFailStep(
        STEP.token,
        'Email server profile',
        'NO_PROFILE',
        'The mailbox has no email server profile.',
        'Edit the mailbox and choose a Server Profile, then select Test & Enable Mailbox.',
      ),
      ...skipRest('Not tested: no email server profile.'),
    ];
  }
  const profile = mb.profile;
  if (!incoming && !outgoing) {
    return [
      skipStep(STEP.token, 'Access token', 'Nothing to test.'),
      skipStep(STEP.account, 'Account and scope', 'Nothing to test.'),
      ...skipRest(''),
    ];
  }
  const creds = await env.credentials({ ...mb, profile });
  if (!creds.ok) return [...creds.steps, ...skipRest('Not tested: the earlier step failed.')];

  // Each connection takes a slot of the Maximum Concurrent Connections (per mailbox across processes, decision 012).
  const probe = (protocol: MailProtocol, checked: boolean): Promise<Step[]> => {
    if (!checked) return Promise.resolve(skipped(protocol, false, ''));
    const o: ProbeOptions = {
      endpoint: protocol.endpoint(profile),
      auth: creds.auth,
      ca: env.ca,
      connectTimeoutMs: env.connectTimeoutMs,
      totalTimeoutMs: env.totalTimeoutMs,
      ...(protocol.direction === 'outgoing' ? { sendTestMessageTo: env.sendTestMessageTo } : {}),
    };
    if (!env.semaphore)
      return env.limiter.run(`profile:${profile.id}`, profile.maxConcurrentConnections, () => protocol.probe(o));
    // Test & Enable's own rule stays per profile (its runs of one profile together hold at most the cap), now counted
    // across processes; the mailbox and account claims are the ones synchronization holds, so a test and an IDLE
    // session of one mailbox never exceed the cap together (the IDLE session yields).
    const claims: SlotClaim[] = [
      { key: `profile:${profile.id}`, limit: Math.max(1, profile.maxConcurrentConnections) },
      ...connectionClaims({
        mailboxId: mb.id,
        maxConcurrentConnections: profile.maxConcurrentConnections,
        protocol: protocol.id,
        host: o.endpoint.host,
        login: creds.auth.user,
      }),
    ];
    return env.semaphore.run(claims, { purpose: `test:${mb.id}` }, () => protocol.probe(o));
  };
  const [incomingSteps, outgoingSteps] = await Promise.all([probe(inbound, incoming), probe(outbound, outgoing)]);
  return [...creds.steps, ...incomingSteps, ...outgoingSteps];
}
