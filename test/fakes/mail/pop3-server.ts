// Scripted POP3 server on 127.0.0.1 with implicit TLS that answers like pop.gmail.com:995, incl. its failures.
import { randomBytes } from 'node:crypto';
import { startTlsListener, type Session } from './tls-listener.ts';
import {
  checkLogin,
  decodeSasl,
  OAUTH_FAILURE_CHALLENGE,
  type Credentials,
  type FakeMailOptions,
  type FakeMailServer,
  type MailAccountBehaviour,
} from './world.ts';

export const POP3_CAPA = [
  'USER',
  'RESP-CODES',
  'EXPIRE 0',
  'LOGIN-DELAY 300',
  'TOP',
  'UIDL',
  'X-GOOGLE-RICO',
  'SASL PLAIN XOAUTH2 OAUTHBEARER',
];

export const POP3_TEXT = {
  welcome: '+OK Welcome.',
  badToken: '-ERR [AUTH] Invalid credentials.',
  badPassword: '-ERR [AUTH] Username and password not accepted.',
  popDisabled:
    '-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.',
  adminPolicy:
    '-ERR [SYS/PERM] POP access is disabled for your domain. Please contact your domain administrator for questions about this feature.',
  tooManyConnections: '-ERR [SYS/TEMP] Too many simultaneous connections.',
} as const;

export interface Pop3ServerOptions extends FakeMailOptions {
  maxConnectionsPerUser?: number;
}

export type FakePop3Server = FakeMailServer;

const MAILBOX_COMMANDS = new Set(['STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'RSET']);

export async function startPop3Server(opts: Pop3ServerOptions): Promise<FakePop3Server> {
  const active = new Map<string, number>();
  const listener = await startTlsListener({
    mode: opts.mode,
    delayMs: opts.delayMs,
    port: opts.port,
    session: (s) => runSession(s),
  });

  async function runSession(s: Session): Promise<void> {
    // A holder, not a `let`: login() assigns it from inside the loop's awaits.
    const session: { account: MailAccountBehaviour | null; user: string } = { account: null, user: '' };
    let pendingUser = '';
    try {
      await s.send(`+OK Gpop ready for requests from ${s.remoteAddress} ${randomBytes(6).toString('hex')}`);
      for (;;) {
        const line = await s.reader.readLine();
        if (line === null) return;
        const [verb = '', ...rest] = line.split(' ');
        const cmd = verb.toUpperCase();
        if (cmd === 'QUIT') {
          s.loggedOut();
          await s.send('+OK Farewell.');
          return;
        }
        if (cmd === 'CAPA') {
          await s.send('+OK Capability list follows', ...POP3_CAPA, '.');
          continue;
        }
        if (cmd === 'NOOP') {
          await s.send('+OK');
          continue;
        }
        const account = session.account;
        if (!account) {
          if (cmd === 'USER' && rest.length) {
            pendingUser = rest.join(' ');
            await s.send('+OK send PASS');
            continue;
          }
          if (cmd === 'PASS' && pendingUser) {
            await login({ kind: 'password', user: pendingUser, password: rest.join(' ') }, false);
            continue;
          }
          if (cmd === 'AUTH' && rest[0]) {
            const mech = rest[0].toUpperCase();
            if (!['XOAUTH2', 'OAUTHBEARER', 'PLAIN'].includes(mech)) {
              await s.send('-ERR Unsupported mechanism');
              continue;
            }
            let payload: string | null = rest[1] ?? null;
            if (payload === null) {
              await s.send('+ ');
              payload = await s.reader.readLine();
              if (payload === null) return;
              if (payload === '*') {
                await s.send('-ERR Authentication aborted');
                continue;
              }
            }
            await login(decodeSasl(mech, payload), mech !== 'PLAIN');
            continue;
          }
          await s.send('-ERR bad command');
          continue;
        }
        if (!MAILBOX_COMMANDS.has(cmd)) {
          await s.send('-ERR bad command');
          continue;
        }
        // Gmail's quirk: a POP-disabled account logs in fine and fails at the first mailbox command.
        if (account.popEnabled === false) {
          await s.send(POP3_TEXT.popDisabled);
          continue;
        }
        const count = account.messages ?? 0;
        if (cmd === 'STAT') await s.send(`+OK ${count} ${count * 1000}`);
        else if (cmd === 'LIST')
          await s.send(
            `+OK ${count} messages (${count * 1000} octets)`,
            ...Array.from({ length: count }, (_, i) => `${i + 1} 1000`),
            '.',
          );
        else if (cmd === 'UIDL')
          await s.send('+OK', ...Array.from({ length: count }, (_, i) => `${i + 1} GmailId${i + 1}`), '.');
        else await s.send('-ERR [SYS/PERM] Not supported by this fake');
      }
    } finally {
      const user = session.user.toLowerCase();
      if (session.account) active.set(user, (active.get(user) ?? 1) - 1);
    }

    async function login(creds: Credentials | null, oauth: boolean): Promise<void> {
      pendingUser = '';
      const verdict = await checkLogin(
        {
          verifyBearer: opts.verifyBearer,
          accounts: opts.accounts,
          maxConnectionsPerUser: opts.maxConnectionsPerUser,
          activeSessions: (u) => active.get(u.toLowerCase()) ?? 0,
        },
        creds,
      );
      if (!verdict.ok) {
        listener.stats.failedLogins++;
        if (verdict.reason === 'badCredentials' && oauth) {
          await s.send(`+ ${OAUTH_FAILURE_CHALLENGE}`);
          if ((await s.reader.readLine()) === null) return;
          await s.send(POP3_TEXT.badToken);
        } else {
          await s.send(verdict.reason === 'badCredentials' ? POP3_TEXT.badPassword : POP3_TEXT[verdict.reason]);
        }
        return;
      }
      session.account = verdict.account;
      session.user = verdict.user;
      const key = verdict.user.toLowerCase();
      active.set(key, (active.get(key) ?? 0) + 1);
      listener.stats.logins++;
      await s.send(POP3_TEXT.welcome);
    }
  }

  return {
    host: '127.0.0.1',
    port: listener.port,
    close: () => listener.close(),
    stats: () => ({ ...listener.stats }),
    setMode: (mode) => listener.setMode(mode),
    setDelay: (ms) => listener.setDelay(ms),
  };
}
