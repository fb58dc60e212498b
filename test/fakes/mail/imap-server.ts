// Scripted IMAP4rev1 server on 127.0.0.1 with implicit TLS that answers like imap.gmail.com:993, incl. its failures.
import { randomBytes } from 'node:crypto';
import { startTlsListener, type Session } from './tls-listener.ts';
import { parseCommand, type ImapCommand, type ImapValue } from './imap-parse.ts';
import { findFolder, listLines, selectLines, statusLine } from './imap-mailboxes.ts';
import {
  checkLogin,
  decodeSasl,
  OAUTH_FAILURE_CHALLENGE,
  type Credentials,
  type FakeMailOptions,
  type FakeMailServer,
  type MailAccountBehaviour,
} from './world.ts';

export const IMAP_CAPABILITY_PREAUTH =
  'IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER';
// Gmail also offers COMPRESS=DEFLATE here; the fake leaves it out rather than implement DEFLATE framing.
export const IMAP_CAPABILITY_AUTH =
  'IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584';

export const IMAP_TEXT = {
  badCredentials: 'NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)',
  imapDisabled:
    'NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
  tooManyConnections: 'NO [ALERT] Too many simultaneous connections. (Failure)',
  adminPolicy:
    'NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions about this feature. (Failure)',
} as const;

const SASL_MECHANISMS = new Set(['XOAUTH2', 'OAUTHBEARER', 'PLAIN', 'PLAIN-CLIENTTOKEN']);
const MAX_LITERAL = 64 * 1024;

export interface ImapServerOptions extends FakeMailOptions {
  maxConnectionsPerUser?: number;
}

export type FakeImapServer = FakeMailServer;

export async function startImapServer(opts: ImapServerOptions): Promise<FakeImapServer> {
  const active = new Map<string, number>(); // authenticated sessions per user (lower-cased)
  const listener = await startTlsListener({
    mode: opts.mode,
    delayMs: opts.delayMs,
    port: opts.port,
    session: (s) => runSession(s),
  });

  async function runSession(s: Session): Promise<void> {
    let state: 'notAuth' | 'auth' | 'selected' = 'notAuth';
    let user = '';
    let account: MailAccountBehaviour = {};
    try {
      await s.send(`* OK Gimap ready for requests from ${s.remoteAddress} ${randomBytes(6).toString('hex')}`);
      for (;;) {
        const text = await readCommand(s);
        if (text === null) return;
        let cmd: ImapCommand;
        try {
          cmd = parseCommand(text);
        } catch {
          await s.send(`${/^\S+/.exec(text)?.[0] ?? '*'} BAD Could not parse command`);
          continue;
        }
        if (!(await handle(cmd))) return;
      }
    } finally {
      if (state !== 'notAuth') active.set(user.toLowerCase(), (active.get(user.toLowerCase()) ?? 1) - 1);
    }

    /** Returns false when the session is over. */
    async function handle({ tag, name, args }: ImapCommand): Promise<boolean> {
      const commands = (listener.stats.commands ??= {});
      commands[name] = (commands[name] ?? 0) + 1;
      const ok = (text = 'Success') => s.send(`${tag} OK ${text}`);
      const authed = state !== 'notAuth';
      switch (name) {
        case 'CAPABILITY':
          await s.send(`* CAPABILITY ${authed ? IMAP_CAPABILITY_AUTH : IMAP_CAPABILITY_PREAUTH}`);
          await ok('Thats all she wrote!');
          return true;
        case 'NOOP':
          await ok();
          return true;
        case 'ID':
          await s.send('* ID ("name" "GImap" "vendor" "Google, Inc." "support-url" "https://support.google.com/mail")');
          await ok();
          return true;
        case 'LOGOUT':
          s.loggedOut();
          await s.send('* BYE LOGOUT Requested', `${tag} OK 73 good day (Success)`);
          return false;
        case 'AUTHENTICATE':
        case 'LOGIN':
          if (authed) {
            await s.send(`${tag} BAD Already authenticated`);
            return true;
          }
          await login(tag, name, args);
          return true;
      }
      if (!authed) {
        await s.send(`${tag} BAD Command not valid in this state`);
        return true;
      }
      switch (name) {
        case 'NAMESPACE':
          await s.send('* NAMESPACE (("" "/")) NIL NIL');
          await ok();
          return true;
        case 'ENABLE': {
          const known = args.filter(
            (a): a is string => typeof a === 'string' && ['CONDSTORE', 'UTF8=ACCEPT'].includes(a.toUpperCase()),
          );
          await s.send(`* ENABLED${known.map((k) => ` ${k.toUpperCase()}`).join('')}`);
          await ok();
          return true;
        }
        case 'LIST':
        case 'XLIST':
        case 'LSUB':
          await s.send(...listLines(name, args), `${tag} OK Success`);
          return true;
        case 'SELECT':
        case 'EXAMINE': {
          const folder = findFolder(typeof args[0] === 'string' ? args[0] : '');
          if (!folder) {
            state = 'auth';
            await s.send(`${tag} NO [NONEXISTENT] Unknown Mailbox: ${String(args[0])} (Failure)`);
            return true;
          }
          state = 'selected';
          const mode = name === 'SELECT' ? 'READ-WRITE' : 'READ-ONLY';
          await s.send(...selectLines(account, folder.name), `${tag} OK [${mode}] ${folder.name} selected. (Success)`);
          return true;
        }
        case 'STATUS': {
          const folder = findFolder(typeof args[0] === 'string' ? args[0] : '');
          if (!folder) {
            await s.send(`${tag} NO [NONEXISTENT] Unknown Mailbox: ${String(args[0])} (Failure)`);
            return true;
          }
          await s.send(statusLine(account, folder.name, args[1]), `${tag} OK Success`);
          return true;
        }
        case 'UNSELECT':
        case 'CLOSE':
          state = 'auth';
          await ok('Returned to authenticated state. (Success)');
          return true;
        case 'IDLE': {
          await s.send('+ idling');
          const done = await s.reader.readLine();
          if (done === null) return false;
          await ok('IDLE terminated (Success)');
          return true;
        }
        default:
          await s.send(`${tag} BAD Could not parse command`);
          return true;
      }
    }

    async function login(tag: string, name: string, args: ImapValue[]): Promise<void> {
      let creds: Credentials | null = null;
      let oauth = false;
      if (name === 'LOGIN') {
        const [u, p] = args;
        if (typeof u === 'string' && typeof p === 'string') creds = { kind: 'password', user: u, password: p };
      } else {
        const mech = typeof args[0] === 'string' ? args[0].toUpperCase() : '';
        if (!SASL_MECHANISMS.has(mech)) {
          await s.send(`${tag} NO Unsupported AUTHENTICATE mechanism. (Failure)`);
          return;
        }
        oauth = mech === 'XOAUTH2' || mech === 'OAUTHBEARER';
        let payload = typeof args[1] === 'string' ? args[1] : null;
        if (payload === null) {
          await s.send('+ ');
          payload = await s.reader.readLine();
          if (payload === null) return;
          if (payload === '*') {
            await s.send(`${tag} BAD Authentication aborted`);
            return;
          }
        }
        creds = decodeSasl(mech === 'PLAIN-CLIENTTOKEN' ? 'PLAIN' : mech, payload);
      }
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
          // Gmail answers a bad bearer token with a JSON challenge; the client must send an empty line.
          await s.send(`+ ${OAUTH_FAILURE_CHALLENGE}`);
          if ((await s.reader.readLine()) === null) return;
        }
        await s.send(`${tag} ${IMAP_TEXT[verdict.reason]}`);
        return;
      }
      if (verdict.account.imapEnabled === false) {
        listener.stats.failedLogins++;
        await s.send(`${tag} ${IMAP_TEXT.imapDisabled}`);
        return;
      }
      state = 'auth';
      user = verdict.user;
      account = verdict.account;
      active.set(user.toLowerCase(), (active.get(user.toLowerCase()) ?? 0) + 1);
      listener.stats.logins++;
      await s.send(`* CAPABILITY ${IMAP_CAPABILITY_AUTH}`, `${tag} OK ${user} authenticated (Success)`);
    }
  }

  /** Reads one command, collecting literals ({n} gets a continuation, {n+} does not); latin1 keeps byte counts. */
  async function readCommand(s: Session): Promise<string | null> {
    let text = '';
    for (;;) {
      const line = await s.reader.readLine('latin1');
      if (line === null) return null;
      text += line;
      const m = /\{(\d+)(\+?)\}$/.exec(line);
      if (!m) return text;
      const n = Number(m[1]);
      if (n > MAX_LITERAL) return null;
      if (!m[2]) await s.send('+ Ready for additional command text.');
      const data = await s.reader.readBytes(n);
      if (data === null) return null;
      text += `\r\n${data.toString('latin1')}`;
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
