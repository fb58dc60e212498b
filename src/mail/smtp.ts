// SMTP probe for Test & Enable Mailbox: STARTTLS or implicit TLS + AUTH (XOAUTH2 or password) via nodemailer, optional test message.
import type { createTransport as CreateTransport } from 'nodemailer';
import { Budget } from './budget.ts';
import { mapError } from './errors.ts';
import { failStep, okStep, secretsOf, STEP } from './steps.ts';
import { outgoingEndpoint, type MailProtocol } from './protocol.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, type ProbeOptions, type Step } from './types.ts';
import { trustOptions } from './tls.ts';

const LOGIN = { id: STEP.outgoingLogin, label: 'Outgoing login (SMTP)' } as const;
const SEND = { id: STEP.outgoingMessage, label: 'Send a test message' } as const;

/** The probe's options (kept as a name for callers); `sendTestMessageTo` is part of ProbeOptions. */
export type SmtpProbeOptions = ProbeOptions;

/** Signs in; with `sendTestMessageTo`, also sends a test message (its step comes after the login step). */
export async function probeSmtp(o: ProbeOptions): Promise<Step[]> {
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const totalMs = o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const budget = new Budget(totalMs, o.signal);
  const secrets = secretsOf(o.auth);
  const fail = (step: typeof LOGIN | typeof SEND, err: unknown) =>
    failStep(step.id, step.label, mapError(budget.error ?? err, { protocol: 'smtp', auth: o.auth.kind, secrets }));
  let transporter: ReturnType<typeof makeTransport> | undefined;
  const { createTransport } = await import('nodemailer'); // loaded by the first probe, not at start (decision 035)
  try {
    transporter = makeTransport(createTransport, o, connectMs, totalMs);
    const smtp = transporter;
    budget.onStop(() => smtp.close());
    await budget.race(smtp.verify());
  } catch (err) {
    transporter?.close();
    budget.dispose();
    return [fail(LOGIN, err)];
  }
  const steps: Step[] = [okStep(LOGIN.id, LOGIN.label, `Signed in as ${o.auth.user}.`)];
  try {
    if (o.sendTestMessageTo) {
      const info = await budget.race(
        transporter.sendMail({
          from: o.auth.user,
          to: o.sendTestMessageTo,
          subject: 'Mailroom test message',
          text: 'This message was sent by Test & Enable Mailbox to check outgoing email. You can delete it.',
        }),
      );
      steps.push(okStep(SEND.id, SEND.label, `Accepted for ${info.accepted.map(String).join(', ')}.`));
    }
  } catch (err) {
    steps.push(fail(SEND, err));
  } finally {
    transporter.close();
    budget.dispose();
  }
  return steps;
}

function makeTransport(createTransport: typeof CreateTransport, o: ProbeOptions, connectMs: number, totalMs: number) {
  return createTransport({
    host: o.endpoint.host,
    port: o.endpoint.port,
    secure: o.endpoint.secure,
    requireTLS: !o.endpoint.secure, // STARTTLS or nothing: credentials never go in clear
    auth:
      o.auth.kind === 'xoauth2'
        ? { type: 'OAuth2', user: o.auth.user, accessToken: o.auth.accessToken }
        : { user: o.auth.user, pass: o.auth.password },
    tls: trustOptions(o.ca),
    connectionTimeout: connectMs,
    greetingTimeout: connectMs,
    socketTimeout: totalMs,
    logger: false,
  });
}

export const smtp: MailProtocol = {
  id: 'smtp',
  label: 'SMTP',
  direction: 'outgoing',
  steps: [LOGIN],
  endpoint: outgoingEndpoint,
  probe: probeSmtp,
};
