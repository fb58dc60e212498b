// Sends one message over SMTP (STARTTLS or implicit TLS, AUTH XOAUTH2 or password) and says exactly how far it got:
// an error before DATA means the server never had the message; after DATA without a refusal, nobody knows (decision 020).
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { trustOptions } from './tls.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TOTAL_TIMEOUT_MS, type Endpoint, type MailAuth } from './types.ts';

export interface MessageAddress {
  address: string;
  name: string;
}

export interface OutgoingMessage {
  /** With angle brackets: "<…@…>". Generated and stored before sending, so the sync can recognise the message. */
  messageId: string;
  from: MessageAddress;
  to: MessageAddress[];
  cc: MessageAddress[];
  bcc: MessageAddress[];
  subject: string;
  text: string;
  inReplyTo?: string | null;
  references?: string[];
  date: Date;
}

export interface SendOptions {
  endpoint: Endpoint;
  auth: MailAuth;
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Called once the message is handed to the server (MAIL FROM onwards): from here a failure is ambiguous. */
  onHandOver?: () => void;
}

/** Where a failure happened: `connect` (connect, TLS, AUTH) and `envelope` answers are certain non-deliveries. */
export type SendStage = 'connect' | 'handover';

export type SendResult =
  | { ok: true; response: string; accepted: string[]; rejected: string[] }
  | {
      ok: false;
      stage: SendStage;
      /** The server answered with a 4xx/5xx refusal: it did not take the message (even after DATA). */
      refused: boolean;
      error: unknown;
    };

/** The message as RFC 5322 bytes (Bcc not in the headers); its Message-ID is ours. */
export async function buildMessage(m: OutgoingMessage): Promise<Buffer> {
  // nodemailer is loaded by the first message, not at start (decision 035).
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    messageId: m.messageId,
    date: m.date,
    from: m.from,
    to: m.to,
    cc: m.cc.length ? m.cc : undefined,
    subject: m.subject,
    text: m.text,
    inReplyTo: m.inReplyTo ?? undefined,
    references: m.references?.length ? m.references : undefined,
    headers: { 'X-Mailer': 'Mailroom' },
  });
  return composer.compile().build();
}

const responseCodeOf = (err: unknown): number => {
  const e = err as { responseCode?: unknown; response?: unknown } | null;
  if (typeof e?.responseCode === 'number') return e.responseCode;
  return Number(/^\d{3}/.exec(typeof e?.response === 'string' ? e.response : '')?.[0] ?? 0);
};

export async function sendMessage(o: SendOptions, m: OutgoingMessage): Promise<SendResult> {
  const raw = await buildMessage(m);
  const [{ default: Connection }, { default: XOAuth2 }] = await Promise.all([
    import('nodemailer/lib/smtp-connection'),
    import('nodemailer/lib/xoauth2'),
  ]);
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const totalMs = o.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const conn = new Connection({
    host: o.endpoint.host,
    port: o.endpoint.port,
    secure: o.endpoint.secure,
    requireTLS: !o.endpoint.secure, // STARTTLS or nothing: credentials and mail never go in clear
    tls: trustOptions(o.ca),
    connectionTimeout: connectMs,
    greetingTimeout: connectMs,
    socketTimeout: totalMs,
    logger: false,
  });
  let stage: SendStage = 'connect';
  let failed: unknown;
  // A connection error event (socket reset, timeout) also fails the pending callback; keep the first one.
  conn.on('error', (err) => {
    failed ??= err;
  });
  const timer = setTimeout(() => {
    failed ??= Object.assign(new Error('The SMTP server did not finish in time'), { code: 'ETIMEDOUT' });
    conn.close();
  }, totalMs);
  const step = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      let settled = false;
      const done = (err: unknown, value?: T) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(value as T);
      };
      conn.once('end', () => done(failed ?? Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      fn(done);
    });
  try {
    await step<void>((cb) => conn.connect((err) => cb(err)));
    const auth =
      o.auth.kind === 'xoauth2'
        ? { oauth2: new XOAuth2({ user: o.auth.user, accessToken: o.auth.accessToken }) }
        : { credentials: { user: o.auth.user, pass: o.auth.password } };
    await step<void>((cb) => conn.login(auth as never, (err) => cb(err)));
    stage = 'handover';
    o.onHandOver?.();
    const recipients = [...m.to, ...m.cc, ...m.bcc].map((a) => a.address);
    const info = await step<SMTPConnection.SentMessageInfo>((cb) =>
      conn.send({ from: m.from.address, to: recipients }, raw, (err, value) => cb(err, value)),
    );
    conn.quit();
    return {
      ok: true,
      response: String(info.response ?? ''),
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
    };
  } catch (err) {
    conn.close();
    const code = responseCodeOf(err);
    return { ok: false, stage, refused: code >= 400 && code < 600, error: err };
  } finally {
    clearTimeout(timer);
  }
}
