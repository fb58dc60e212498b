// One Test & Enable run for one mailbox: the credentials provider's checks, then the incoming and outgoing protocols'
// probes in parallel. Returns the step report; never throws for a check that fails.
import type { Step, MailAuth, ProbeOptions } from '../mail/types.ts';
import { codedFailStep, skipStep, STEP } from '../mail/steps.ts';
import type { ConnectionSemaphore } from '../cluster/semaphore.ts';
import { connectionClaims } from '../sync/connections.ts';
import type { MailProtocol } from '../mail/protocol.ts';
import type { ProtocolRegistry } from '../mail/protocols.ts';
import { mailboxCredentialFields, profileCredentialFields, type CredentialOptions } from '../mail/credentials.ts';
import { isCredentialRefusal, loginWithTokenRetry } from '../mail/token-retry.ts';
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
export type Credentials = { ok: true; auth: MailAuth; steps: Step[]; cached?: boolean } | { ok: false; steps: Step[] };

export interface RunEnv {
  credentials(mb: TestMailbox & { profile: TestProfile }, opts?: CredentialOptions): Promise<Credentials>;
  protocols: ProtocolRegistry;
  /** The cluster's connection semaphore: the profile's budget is shared with synchronization and other processes. */
  semaphore: ConnectionSemaphore;
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
  // Each connection takes a slot of the profile's Maximum Concurrent Connections (and, for IMAP, of the account's 15),
  // counted across every process and shared with synchronization (decision 022).
  const probe = (auth: MailAuth, protocol: MailProtocol, checked: boolean): Promise<Step[]> => {
    if (!checked) return Promise.resolve(skipped(protocol, false, ''));
    const endpoint = protocol.endpoint(profile);
    const claims = connectionClaims({
      profileId: profile.id,
      maxConcurrentConnections: profile.maxConcurrentConnections,
      protocol: protocol.id,
      host: endpoint.host,
      login: auth.user,
    });
    const o: ProbeOptions = {
      endpoint,
      auth,
      ca: env.ca,
      connectTimeoutMs: env.connectTimeoutMs,
      totalTimeoutMs: env.totalTimeoutMs,
      ...(protocol.direction === 'outgoing' ? { sendTestMessageTo: env.sendTestMessageTo } : {}),
    };
    return env.semaphore.run(claims, { purpose: `test:${mb.id}` }, () => protocol.probe(o));
  };
  const probes = async (auth: MailAuth) => {
    const [incomingSteps, outgoingSteps] = await Promise.all([
      probe(auth, inbound, incoming),
      probe(auth, outbound, outgoing),
    ]);
    return [...incomingSteps, ...outgoingSteps];
  };
  // A refused cached token is refreshed once and both sides are checked again (issue 13 item 1).
  const refusedLogin = (steps: Step[]) =>
    steps.some((s) => (s.id === STEP.incomingLogin || s.id === STEP.outgoingLogin) && isCredentialRefusal(s.code));
  const r = await loginWithTokenRetry((opts) => env.credentials({ ...mb, profile }, opts), probes, refusedLogin);
  if (r.ok) return [...r.credentials.steps, ...r.result];
  // The refresh after a refusal failed (a revoked grant): the token step says both; the refused logins are its cause,
  // not a second finding, so they are not reported as AUTH_FAILED.
  if (r.refreshedAfterRefusal)
    return [...r.credentials.steps, ...skipRest('Gmail refused the stored access token: see the access token step.')];
  return [...r.credentials.steps, ...skipRest('Not tested: the earlier step failed.')];
}
