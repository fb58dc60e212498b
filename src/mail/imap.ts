// IMAP probe for Test & Enable Mailbox: sign in (XOAUTH2/OAUTHBEARER or password) and open INBOX read-only, via imapflow.
import type { ImapFlow } from 'imapflow';
import { Budget } from './budget.ts';
import { mapError } from './errors.ts';
import { failStep, okStep, secretsOf, skipStep, STEP } from './steps.ts';
import { incomingEndpoint, type MailProtocol } from './protocol.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, type ProbeOptions, type Step } from './types.ts';
import { trustOptions } from './tls.ts';

const LOGIN = { id: STEP.incomingLogin, label: 'Incoming login (IMAP)' } as const;
const MAILBOX = { id: STEP.incomingMailbox, label: 'Open INBOX' } as const;

export async function probeImap(o: ProbeOptions): Promise<Step[]> {
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const budget = new Budget(o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS, o.signal);
  const secrets = secretsOf(o.auth);
  const fail = (step: typeof LOGIN | typeof MAILBOX, err: unknown) =>
    failStep(step.id, step.label, mapError(budget.error ?? err, { protocol: 'imap', auth: o.auth.kind, secrets }));
  let client: ImapFlow | undefined;
  const { ImapFlow: Client } = await import('imapflow'); // loaded by the first probe, not at start (decision 035)
  try {
    client = new Client({
      host: o.endpoint.host,
      port: o.endpoint.port,
      secure: o.endpoint.secure,
      // Never send credentials in clear: a non-TLS port must upgrade with STARTTLS.
      doSTARTTLS: o.endpoint.secure ? undefined : true,
      auth:
        o.auth.kind === 'xoauth2'
          ? { user: o.auth.user, accessToken: o.auth.accessToken }
          : { user: o.auth.user, pass: o.auth.password },
      tls: trustOptions(o.ca),
      logger: false,
      connectionTimeout: connectMs,
      greetingTimeout: connectMs,
      socketTimeout: o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
      disableAutoIdle: true,
      disableCompression: true,
      // No ENABLE (CONDSTORE, UTF8=ACCEPT) after the login: the probe only opens INBOX, and the command was one more
      // round trip and parse on both sides per mailbox tested (decision 038).
      disableAutoEnable: true,
    });
  } catch (err) {
    return [fail(LOGIN, err), skipStep(MAILBOX.id, MAILBOX.label, 'Skipped: the login failed.')];
  }
  const imap = client;
  imap.on('error', () => {}); // failures surface through the awaited calls; an unhandled 'error' event would crash
  budget.onStop(() => imap.close());
  budget.connectDeadline(connectMs, () => imap.greeting === undefined, `${o.endpoint.host}:${o.endpoint.port}`);
  const steps: Step[] = [];
  try {
    try {
      await budget.race(imap.connect());
      steps.push(okStep(LOGIN.id, LOGIN.label, `Signed in as ${o.auth.user}.`));
    } catch (err) {
      return [fail(LOGIN, err), skipStep(MAILBOX.id, MAILBOX.label, 'Skipped: the login failed.')];
    }
    try {
      const mailbox = await budget.race(imap.mailboxOpen('INBOX', { readOnly: true }));
      steps.push(okStep(MAILBOX.id, MAILBOX.label, `INBOX opened (${mailbox.exists} messages).`));
    } catch (err) {
      steps.push(fail(MAILBOX, err));
    }
    return steps;
  } finally {
    if (!budget.error && imap.usable) await budget.race(imap.logout()).catch(() => {});
    imap.close();
    budget.dispose();
  }
}

export const imap: MailProtocol = {
  id: 'imap',
  label: 'IMAP',
  direction: 'incoming',
  steps: [LOGIN, MAILBOX],
  endpoint: incomingEndpoint,
  probe: probeImap,
};
