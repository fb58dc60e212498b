// SMTP fake built on npm smtp-server: STARTTLS (like :587) and implicit TLS (like :465) ports answering like smtp.gmail.com.
import type net from 'node:net';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestCa, makeUntrustedCert, makeWrongHostCert } from './tls.ts';
import { checkLogin, MAIL_SCOPE, type FakeMailOptions, type ServerMode, type ServerStats } from './world.ts';

// Sent without smtp-server's own enhanced code, so the lines read exactly as Gmail's.
export const SMTP_BAD_CREDENTIALS = [
  '5.7.8 Username and Password not accepted. For more information, go to',
  '5.7.8  https://support.google.com/mail/?p=BadCredentials',
];
export const SMTP_TRANSIENT = {
  421: '4.7.0 Try again later, closing connection.',
  454: '4.7.0 Too many login attempts, please try again later.',
} as const;

export type SmtpTransient = keyof typeof SMTP_TRANSIENT | null;
export interface ReceivedMessage {
  from: string;
  to: string[];
  user: string;
  raw: string;
}

export interface FakeSmtpServer {
  host: '127.0.0.1';
  starttlsPort: number; // like smtp.gmail.com:587
  implicitTlsPort: number; // like smtp.gmail.com:465
  messages: ReceivedMessage[];
  close(): Promise<void>;
  stats(): ServerStats;
  setMode(mode: ServerMode): void;
  setDelay(ms: number): void;
  /** 421 at connect, 454 at AUTH, null for normal answers; with `times`, only that many times, then normal again. */
  setTransient(reply: SmtpTransient, times?: number): void;
  /** true: record each message, then never answer its final "250" (a server that took the message and hung). */
  holdData(hold: boolean): void;
}

const withCode = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/** Rewrites every 535 into Gmail's two-line answer (smtp-server's XOAUTH2 path hard-codes its own text). */
class GmailSmtpServer extends SMTPServer {
  override connect(socket: net.Socket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    const connection = [...this.connections].at(-1);
    if (!connection) return;
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) =>
      code === 535 ? send(535, SMTP_BAD_CREDENTIALS, false) : send(code, data, context);
  }
}

export async function startSmtpServer(opts: FakeMailOptions & { transient?: SmtpTransient }): Promise<FakeSmtpServer> {
  let mode: ServerMode = opts.mode ?? 'normal';
  let delayMs = opts.delayMs ?? 0;
  let transient: SmtpTransient = opts.transient ?? null;
  let transientLeft = Number.POSITIVE_INFINITY;
  let holding = false;
  /** Whether to answer `reply` now (and count it against `times`). */
  const refuse = (reply: SmtpTransient) => {
    if (transient !== reply || transientLeft <= 0) return false;
    transientLeft--;
    return true;
  };
  const stats: ServerStats = { connections: 0, concurrent: 0, maxConcurrent: 0, logins: 0, failedLogins: 0 };
  const messages: ReceivedMessage[] = [];
  const sockets = new Set<net.Socket>();
  const pause = () => (delayMs > 0 ? sleep(delayMs) : Promise.resolve());

  const certFor = (m: ServerMode) =>
    m === 'badCert' ? makeUntrustedCert() : m === 'wrongHost' ? makeWrongHostCert() : makeTestCa();

  const options = (secure: boolean): SMTPServerOptions => ({
    secure,
    key: certFor(mode).keyPem,
    cert: certFor(mode).certPem,
    name: 'smtp.gmail.com',
    banner: 'gsmtp',
    size: 35882577,
    authMethods: ['XOAUTH2', 'PLAIN', 'LOGIN'],
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 50,
    async onConnect(_session: SMTPServerSession, callback: (err?: Error | null) => void) {
      if (mode === 'silent') return; // never greet
      await pause();
      if (refuse(421)) return callback(withCode(421, SMTP_TRANSIENT[421]));
      callback();
    },
    async onAuth(
      auth: SMTPServerAuthentication,
      _session: SMTPServerSession,
      callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ) {
      await pause();
      if (refuse(454)) return callback(withCode(454, SMTP_TRANSIENT[454]));
      const oauth = auth.method === 'XOAUTH2';
      const verdict = await checkLogin(
        { verifyBearer: opts.verifyBearer, accounts: opts.accounts, activeSessions: () => 0 },
        oauth
          ? { kind: 'bearer', user: auth.username ?? '', token: auth.accessToken ?? '' }
          : { kind: 'password', user: auth.username ?? '', password: auth.password ?? '' },
      );
      // Gmail's SMTP ignores the IMAP/POP switches and the domain's IMAP policy.
      const ok = verdict.ok || verdict.reason !== 'badCredentials';
      if (!ok) {
        stats.failedLogins++;
        if (oauth) return callback(null, { data: { status: '400', schemes: 'Bearer', scope: MAIL_SCOPE } });
        return callback(withCode(535, 'bad credentials'));
      }
      stats.logins++;
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, session, callback) {
      if (!session.user) return callback(withCode(530, '5.7.0 Authentication Required.'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: String(session.user ?? ''),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        if (holding) return; // the message is here; its sender never hears so
        callback(null, '2.0.0 OK  1700000000 gsmtp');
      });
    },
  });

  const servers = [new GmailSmtpServer(options(false)), new GmailSmtpServer(options(true))];
  const ports: number[] = [];
  for (const server of servers) {
    server.on('error', () => {});
    server.server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      stats.connections++;
      stats.concurrent++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
      socket.on('close', () => {
        sockets.delete(socket);
        stats.concurrent--;
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ports.push((server.server.address() as net.AddressInfo).port);
  }

  return {
    host: '127.0.0.1',
    starttlsPort: ports[0] ?? 0,
    implicitTlsPort: ports[1] ?? 0,
    messages,
    stats: () => ({ ...stats }),
    setMode(m) {
      mode = m;
      const pair = certFor(m);
      for (const server of servers) server.updateSecureContext({ key: pair.keyPem, cert: pair.certPem });
    },
    setDelay(ms) {
      delayMs = ms;
    },
    holdData(hold) {
      holding = hold;
    },
    setTransient(reply, times = Number.POSITIVE_INFINITY) {
      transient = reply;
      transientLeft = times;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
