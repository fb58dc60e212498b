// POP3 probe for Test & Enable Mailbox: sign in (XOAUTH2 or USER/PASS) and run STAT, over implicit TLS.
import { Budget } from './budget.ts';
import { failure, mapError } from './errors.ts';
import { Pop3Client } from './pop3-client.ts';
import { failStep, okStep, secretsOf, skipStep, STEP } from './steps.ts';
import { incomingEndpoint, type MailProtocol } from './protocol.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, type ProbeOptions, type Step } from './types.ts';

const LOGIN = { id: STEP.incomingLogin, label: 'Incoming login (POP3)' } as const;
const MAILBOX = { id: STEP.incomingMailbox, label: 'Mailbox status (STAT)' } as const;
const SKIPPED = 'Skipped: the login failed.';

export async function probePop3(o: ProbeOptions): Promise<Step[]> {
  if (!o.endpoint.secure) {
    // Gmail offers POP3 only on 995 with implicit TLS; never send a token or password in clear.
    const f = { ...failure('TLS_REQUIRED'), message: 'POP3 is only checked over SSL/TLS (port 995).' };
    return [failStep(LOGIN.id, LOGIN.label, f), skipStep(MAILBOX.id, MAILBOX.label, SKIPPED)];
  }
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const budget = new Budget(o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS, o.signal);
  const secrets = secretsOf(o.auth);
  const fail = (step: typeof LOGIN | typeof MAILBOX, err: unknown) =>
    failStep(step.id, step.label, mapError(budget.error ?? err, { protocol: 'pop3', auth: o.auth.kind, secrets }));
  let client: Pop3Client | undefined;
  budget.onStop(() => client?.close());
  try {
    try {
      const pop = await budget.race(
        Pop3Client.connect({ host: o.endpoint.host, port: o.endpoint.port, ca: o.ca, timeoutMs: connectMs }, (c) => {
          client = c;
        }),
      );
      await budget.race(
        o.auth.kind === 'xoauth2'
          ? pop.authXoauth2(o.auth.user, o.auth.accessToken)
          : pop.login(o.auth.user, o.auth.password),
      );
    } catch (err) {
      return [fail(LOGIN, err), skipStep(MAILBOX.id, MAILBOX.label, SKIPPED)];
    }
    const steps = [okStep(LOGIN.id, LOGIN.label, `Signed in as ${o.auth.user}.`)];
    try {
      const { count } = await budget.race((client as Pop3Client).stat());
      steps.push(okStep(MAILBOX.id, MAILBOX.label, `${count} messages waiting.`));
    } catch (err) {
      steps.push(fail(MAILBOX, err));
    }
    return steps;
  } finally {
    if (client && !budget.error) await budget.race(client.quit()).catch(() => {});
    client?.close();
    budget.dispose();
  }
}

export const pop3: MailProtocol = {
  id: 'pop3',
  label: 'POP3',
  direction: 'incoming',
  steps: [LOGIN, MAILBOX],
  endpoint: incomingEndpoint,
  probe: probePop3,
};
