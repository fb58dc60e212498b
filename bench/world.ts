// The Gmail world (Google fake + IMAP/POP3/SMTP fakes) behind delaying proxies, in its own process, driven over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startGmailWorld } from '../test/helpers/gmail-world.ts';
import { startDelayProxy } from './proxy.ts';

export interface WorldInfo {
  clientId: string;
  clientSecret: string;
  ca: string;
  delayMs: number;
  /** Google endpoints as the app must see them (token endpoint through the proxy). */
  googleEnv: Record<string, string>;
  /** Proxied mail ports (127.0.0.1). */
  imapPort: number;
  smtpStarttlsPort: number;
}
export interface IssuedToken {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}
export interface WorldStats {
  refreshes: number;
  tokenRequests: number;
  proxied: { google: number; imap: number; smtp: number };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Request =
  | { id: number; op: 'accounts'; emails: string[] }
  | { id: number; op: 'stats' }
  | { id: number; op: 'close' };

export interface RemoteWorld extends WorldInfo {
  pid: number;
  addAccounts(emails: string[]): Promise<IssuedToken[]>;
  stats(): Promise<WorldStats>;
  close(): Promise<void>;
}

/** Forks this file as a child process; the app under test then shares no CPU time slice with the fakes. */
export async function startRemoteWorld(delayMs: number): Promise<RemoteWorld> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', String(delayMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, (v: unknown) => void>();
  const info = await new Promise<WorldInfo>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`world process exited (${code})`)));
    child.on('message', (m: { ready?: WorldInfo; id?: number; result?: unknown }) => {
      if (m.ready) resolve(m.ready);
      else if (m.id !== undefined) {
        pending.get(m.id)?.(m.result);
        pending.delete(m.id);
      }
    });
  });
  const call = <T>(req: DistributiveOmit<Request, 'id'>): Promise<T> =>
    new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ ...req, id });
    });
  return {
    ...info,
    pid: child.pid!,
    addAccounts: async (emails) => {
      const out: IssuedToken[] = [];
      for (let i = 0; i < emails.length; i += 2000)
        out.push(...(await call<IssuedToken[]>({ op: 'accounts', emails: emails.slice(i, i + 2000) })));
      return out;
    },
    stats: () => call<WorldStats>({ op: 'stats' }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ id: ++next, op: 'close' });
      await exited;
    },
  };
}

/** A TLS server that forwards each connection's plaintext to target; undefined without BENCH_TLS_DIR. */
async function tlsFront(target: { host: string; port: number }): Promise<{ host: string; port: number } | undefined> {
  const dir = process.env.BENCH_TLS_DIR;
  if (!dir) return undefined;
  const server = tls.createServer(
    { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
    (socket) => {
      const up = net.connect(target.port, target.host);
      socket.pipe(up).pipe(socket);
      socket.on('error', () => up.destroy());
      up.on('error', () => socket.destroy());
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
}

async function child(delayMs: number): Promise<void> {
  const w = await startGmailWorld();
  const google = new URL(w.google.url);
  // Google's token endpoint is HTTPS: a TLS terminator in front of the fake (certificate from BENCH_TLS_DIR, which
  // run.ts made and the app trusts through NODE_EXTRA_CA_CERTS), the delaying proxy in front of that, so the handshake
  // pays the round trips too.
  const token = await tlsFront({ host: google.hostname, port: Number(google.port) });
  const [gp, ip, sp] = await Promise.all([
    startDelayProxy(token ?? { host: google.hostname, port: Number(google.port) }, delayMs),
    startDelayProxy({ host: '127.0.0.1', port: w.mail.imap.port }, delayMs),
    startDelayProxy({ host: '127.0.0.1', port: w.mail.smtp.starttlsPort }, delayMs),
  ]);
  const via = (u: string) => {
    const x = new URL(u);
    x.port = String(gp.port);
    if (token) {
      x.protocol = 'https:';
      x.hostname = 'localhost';
    }
    return x.toString();
  };
  const info: WorldInfo = {
    clientId: w.clientId,
    clientSecret: w.clientSecret,
    ca: w.mail.ca,
    delayMs,
    googleEnv: { ...w.googleEnv, GOOGLE_TOKEN_URL: via(w.google.endpoints.token) },
    imapPort: ip.port,
    smtpStarttlsPort: sp.port,
  };
  process.on('message', async (m: Request) => {
    if (m.op === 'accounts') {
      const result = m.emails.map((email) => {
        w.google.addAccount({ email });
        w.mail.accounts.set(email, {});
        return w.google.issueTokensFor(email, w.clientId);
      });
      process.send!({ id: m.id, result });
    } else if (m.op === 'stats') {
      const s = w.google.stats();
      process.send!({
        id: m.id,
        result: {
          refreshes: s.refreshes,
          tokenRequests: s.tokenRequests,
          proxied: { google: gp.connections(), imap: ip.connections(), smtp: sp.connections() },
        },
      });
    } else if (m.op === 'close') {
      await Promise.all([gp.close(), ip.close(), sp.close()]);
      await w.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: info });
}

if (process.argv[2] === '--child') await child(Number(process.argv[3] ?? 0));
