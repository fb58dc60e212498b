// One Test & Enable run for one mailbox: token → account/scope → incoming (IMAP or POP3) and outgoing
// (SMTP) probes in parallel. Returns the step report; never throws for a check that fails.
import type { Step, MailAuth, ProbeOptions } from '../mail/types.ts';
import { probeImap } from '../mail/imap.ts';
import { probePop3 } from '../mail/pop3.ts';
import { probeSmtp } from '../mail/smtp.ts';
import { codedFailStep, skipStep } from '../mail/steps.ts';
import type { KeyedLimiter } from '../mail/limiter.ts';

export interface ProfileForTest {
  id: string; serverType: 'IMAP' | 'POP3'; authenticateUsing: 'GMAIL_OAUTH' | 'CREDENTIALS_PER_MAILBOX';
  incomingServer: string; incomingPort: number; incomingUseSsl: boolean;
  outgoingServer: string; outgoingPort: number; outgoingSecurity: 'SSL' | 'STARTTLS';
  maxConcurrentConnections: number;
  // For the token step (profileClient): the OAuth client, secret still sealed.
  name: string; oauthClientId: string | null; oauthClientSecret: string | null;
}

export interface MailboxForTest {
  id: string; emailAddress: string;
  incomingEmail: string; outgoingEmail: string;
  credentialUsername: string | null; credentialPassword: string | null; // sealed
  profile: ProfileForTest | null;
}

/** What the token step produced: credentials for the probes, or the failed step(s) that stop the run. */
export type Credentials =
  | { ok: true; auth: MailAuth; steps: Step[] }
  | { ok: false; steps: Step[] };

export interface RunEnv {
  credentials(mb: MailboxForTest & { profile: ProfileForTest }): Promise<Credentials>;
  limiter: KeyedLimiter;
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  sendTestMessageTo?: string;
}

const SSS = 'SERVER_SIDE_SYNC';

export async function runChecks(mb: MailboxForTest, env: RunEnv): Promise<Step[]> {
  const incoming = mb.incomingEmail === SSS;
  const outgoing = mb.outgoingEmail === SSS;
  const incomingLabel = mb.profile?.serverType === 'POP3' ? 'POP3' : 'IMAP';
  const skipRest = (why: string): Step[] => [
    skipStep('incoming-login', `Incoming login (${incomingLabel})`, incoming ? why : 'Incoming Email is not Server-Side Synchronization.'),
    skipStep('incoming-mailbox', incomingLabel === 'POP3' ? 'Mailbox status (STAT)' : 'Open INBOX', incoming ? why : 'Incoming Email is not Server-Side Synchronization.'),
    skipStep('outgoing-login', 'Outgoing login (SMTP)', outgoing ? why : 'Outgoing Email is not Server-Side Synchronization.'),
  ];
  if (!mb.profile) {
    return [codedFailStep('token', 'Email server profile', 'NO_PROFILE', 'The mailbox has no email server profile.', 'Edit the mailbox and choose a Server Profile, then select Test & Enable Mailbox.'), ...skipRest('Not tested: no email server profile.')];
  }
  const profile = mb.profile;
  if (!incoming && !outgoing) {
    return [skipStep('token', 'Access token', 'Nothing to test.'), skipStep('account', 'Account and scope', 'Nothing to test.'), ...skipRest('')];
  }
  const creds = await env.credentials({ ...mb, profile });
  if (!creds.ok) return [...creds.steps, ...skipRest('Not tested: the earlier step failed.')];

  const base = (endpoint: ProbeOptions['endpoint']): ProbeOptions => ({ endpoint, auth: creds.auth, ca: env.ca, connectTimeoutMs: env.connectTimeoutMs, totalTimeoutMs: env.totalTimeoutMs });
  // Each connection takes a slot of the profile's Maximum Concurrent Connections.
  const slot = <T>(fn: () => Promise<T>) => env.limiter.run(`profile:${profile.id}`, profile.maxConcurrentConnections, fn);
  const [incomingSteps, outgoingSteps] = await Promise.all([
    incoming
      ? slot(() => (profile.serverType === 'POP3' ? probePop3 : probeImap)(base({ host: profile.incomingServer, port: profile.incomingPort, secure: profile.incomingUseSsl })))
      : Promise.resolve(skipRest('').slice(0, 2)),
    outgoing
      ? slot(() => probeSmtp({ ...base({ host: profile.outgoingServer, port: profile.outgoingPort, secure: profile.outgoingSecurity === 'SSL', starttls: profile.outgoingSecurity === 'STARTTLS' }), sendTestMessageTo: env.sendTestMessageTo }))
      : Promise.resolve(skipRest('').slice(2)),
  ]);
  return [...creds.steps, ...incomingSteps, ...outgoingSteps];
}
