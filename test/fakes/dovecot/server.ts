// startDovecot(): one real Dovecot (IMAP + POP3 over TLS on loopback) per call, configured in a private temp dir,
// with the controls synchronization tests need: users, delivery, folders, UIDVALIDITY changes, kicks.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { makeTestCa, type TestCa } from '../mail/tls.ts';
import { pathsOf, renderAuthDict, renderConfig, renderOauth2, type DovecotLayout } from './config.ts';
import { DOVEADM_NOTHING, doveadmFor } from './doveadm.ts';
import { GMAIL_FOLDERS } from './gmail.ts';
import { writeToMaildir, type Delivered, type MaildirFlag } from './maildir.ts';
import { assertDovecotUsable, DovecotStartError, freePorts, startMaster } from './process.ts';
import { Users } from './users.ts';

export interface Endpoint { host: string; port: number; secure: boolean }

export interface FolderMessage {
  uid: number;
  flags: string[];
  messageId?: string;
  internalDate: Date;
  size: number;
  guid: string;
}

export interface DeliverOptions { folder?: string; internalDate?: Date; flags?: MaildirFlag[] }

export interface StartDovecotOptions {
  /** The Google fake (or its tokeninfo URL's owner): every XOAUTH2/OAUTHBEARER login asks it. */
  google: { endpoints: { tokeninfo: string } };
  /** TLS material; default: this process's test CA, the one the scripted mail servers use. */
  ca?: TestCa;
  /**
   * Move IDLE connections to Dovecot's one imap-hibernate process after this many seconds (default 1; 0 = never,
   * each connection keeps its own imap process: ~5 MB RSS each, and new mail is announced ~0.5 s later).
   */
  hibernateSeconds?: number;
  startTimeoutMs?: number;
}

export interface DovecotServer {
  /** IMAP with implicit TLS (imap.gmail.com:993-style). */
  imap: Endpoint;
  /** Plain IMAP that offers STARTTLS. */
  imapStarttls: Endpoint;
  /** POP3 with implicit TLS (pop.gmail.com:995-style). */
  pop3: Endpoint;
  /** The CA that signed the server certificate: pass as the app's `mailTlsCa`; `caFile` for other processes. */
  ca: string;
  caFile: string;
  dir: string;
  pid: number;
  /** How long start-up took (config, TLS files, master up and listening). */
  startMs: number;
  /** Creates a mail user (idempotent; a later call changes the password). `gmail` also creates Gmail's folders. */
  addUser(email: string, o?: { password?: string; gmail?: boolean }): Promise<void>;
  /** Drops a message into a folder as an MTA would; a client idling on it is told (EXISTS) within about 0.2 s. */
  deliver(email: string, raw: string | Buffer, o?: DeliverOptions): Promise<Delivered>;
  /** The UID Dovecot gave a delivered message (assigns it now if no client has looked yet). */
  uidOf(email: string, delivered: Pick<Delivered, 'guid'>, folder?: string): Promise<number>;
  createFolder(email: string, name: string): Promise<void>;
  /** The user's folders, as LIST shows them. */
  folders(email: string): Promise<string[]>;
  listFolder(email: string, folder?: string): Promise<FolderMessage[]>;
  uidValidity(email: string, folder?: string): Promise<number>;
  /** Gives the folder a new, higher UIDVALIDITY (UIDs stay); kicks the user's sessions unless `kick: false`. */
  changeUidValidity(email: string, folder?: string, o?: { kick?: boolean }): Promise<number>;
  /** Drops every IMAP and POP3 connection of the user (`doveadm kick`); resolves with whether there was one. */
  kick(email: string): Promise<boolean>;
  /** Logged-in IMAP/POP3 connections of the user (or of everyone), as Dovecot's anvil counts them. */
  connections(email?: string): Promise<number>;
  /** How many of the user's connections are IDLE in Dovecot's imap-hibernate process (see `hibernateSeconds`). */
  hibernated(email: string): Promise<number>;
  /** Error, Fatal and Panic lines Dovecot logged (tests assert there are none). */
  errors(): string[];
  log(): string;
  stop(): Promise<void>;
}

const StatusRow = z.object({ uidvalidity: z.string() });
const FetchRow = z.object({
  uid: z.string(), flags: z.string(), 'hdr.message-id': z.string(), 'date.received': z.string(),
  'size.physical': z.string(), guid: z.string(),
});
const ListRow = z.object({ mailbox: z.string() });

const INBOX = 'INBOX';

export async function startDovecot(o: StartDovecotOptions): Promise<DovecotServer> {
  assertDovecotUsable();
  const t0 = performance.now();
  const ca = o.ca ?? makeTestCa();
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-dovecot-'));
  chmodSync(dir, 0o755); // Dovecot's unprivileged processes must traverse it (mkdtemp makes 0700)
  const p = pathsOf(dir);
  for (const d of [join(dir, 'tls'), p.stateDir, p.mail]) mkdirSync(d, { mode: 0o755 });
  const caFile = join(dir, 'tls', 'ca.pem');
  writeFileSync(caFile, ca.caPem);
  writeFileSync(p.cert, ca.certPem);
  writeFileSync(p.key, ca.keyPem, { mode: 0o600 }); // read by the master, as root
  const users = new Users({ auth: p.auth, mail: p.mail });
  const doveadm = doveadmFor(p.config);
  const layout = (ports: DovecotLayout['ports']): DovecotLayout => ({
    dir, ports, instanceName: `mailroom-${randomBytes(4).toString('hex')}`, tokeninfoUrl: o.google.endpoints.tokeninfo,
    hibernateSeconds: o.hibernateSeconds ?? 1,
  });

  let master: Awaited<ReturnType<typeof startMaster>> | undefined;
  let l: DovecotLayout | undefined;
  for (let attempt = 1; !master; attempt++) {
    const [imaps, imap, pop3s] = await freePorts(3) as [number, number, number];
    l = layout({ imaps, imap, pop3s });
    writeFileSync(p.config, renderConfig(l));
    writeFileSync(p.oauth2, renderOauth2(l));
    writeFileSync(p.authDict, renderAuthDict(l));
    try {
      const timeoutMs = o.startTimeoutMs ?? 60_000;
      master = await startMaster({ config: p.config, log: p.log, ports: [imaps, imap, pop3s], timeoutMs });
    } catch (err) {
      if (!(err instanceof DovecotStartError && err.portTaken && attempt < 3)) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const ports = l!.ports;
  const startMs = performance.now() - t0;

  const folderDirs = new Map<string, string>();
  async function folderDir(email: string, folder: string): Promise<string> {
    const user = users.get(email);
    if (folder.toUpperCase() === INBOX) return user.maildir;
    const key = `${user.email}\0${folder}`;
    let path = folderDirs.get(key);
    if (!path) {
      path = (await doveadm.run(['mailbox', 'path', '-u', user.email, '-t', 'mailbox', folder])).trim();
      if (!existsSync(join(path, 'new'))) {
        throw new Error(`No folder "${folder}" for ${user.email}: createFolder() first.`);
      }
      folderDirs.set(key, path);
    }
    return path;
  }

  async function uidValidity(email: string, folder = INBOX): Promise<number> {
    const args = ['mailbox', 'status', '-u', users.get(email).email, 'uidvalidity', folder];
    const [row] = await doveadm.json(args, StatusRow);
    if (!row) throw new Error(`No folder "${folder}" for ${email}.`);
    return Number(row.uidvalidity);
  }

  async function createFolder(email: string, name: string): Promise<void> {
    await doveadm.run(['mailbox', 'create', '-s', '-u', users.get(email).email, name]);
  }

  async function kick(email: string): Promise<boolean> {
    const out = await doveadm.run(['kick', users.get(email).email], { okCodes: [DOVEADM_NOTHING] });
    return !/no users kicked/i.test(out);
  }

  /** Anvil's view: one row per user and protocol, with the pids serving them. */
  async function who(email?: string): Promise<{ connections: number; pids: number[] }[]> {
    // Tab output: doveadm 2.3's JSON formatter closes the array after the first row of `who`.
    const out = await doveadm.run(['-f', 'tab', 'who', ...(email ? [users.get(email).email] : [])]);
    return out.trim().split('\n').slice(1).map((line) => {
      const [, count, , pids] = line.split('\t');
      const pidList = (pids ?? '').replace(/[()]/g, '').split(' ').filter(Boolean).map(Number);
      return { connections: Number(count ?? 0), pids: pidList };
    });
  }

  let stopped: Promise<void> | undefined;
  const server: DovecotServer = {
    imap: { host: '127.0.0.1', port: ports.imaps, secure: true },
    imapStarttls: { host: '127.0.0.1', port: ports.imap, secure: false },
    pop3: { host: '127.0.0.1', port: ports.pop3s, secure: true },
    ca: ca.caPem,
    caFile,
    dir,
    pid: master.pid,
    startMs,

    async addUser(email, uo = {}) {
      users.add(email, 'password' in uo ? { password: uo.password } : {});
      if (uo.gmail) for (const f of GMAIL_FOLDERS) await createFolder(email, f.name);
    },

    async deliver(email, raw, d = {}) {
      const dirOf = await folderDir(email, d.folder ?? INBOX);
      return writeToMaildir(dirOf, users.get(email).uid, raw, d);
    },

    async uidOf(email, delivered, folder = INBOX) {
      const user = users.get(email).email;
      const out = await doveadm.run(['-f', 'flow', 'fetch', '-u', user, 'uid', 'mailbox', folder, 'guid', delivered.guid]);
      const uid = /^uid=(\d+)/m.exec(out)?.[1];
      if (!uid) throw new Error(`No message ${delivered.guid} in "${folder}" of ${email}.`);
      return Number(uid);
    },

    createFolder,

    async folders(email) {
      return (await doveadm.json(['mailbox', 'list', '-u', users.get(email).email], ListRow)).map((r) => r.mailbox);
    },

    async listFolder(email, folder = INBOX) {
      const user = users.get(email);
      const fields = 'uid flags hdr.message-id date.received size.physical guid';
      const rows = await doveadm.json(['fetch', '-u', user.email, fields, 'mailbox', folder, 'all'], FetchRow);
      if (rows.length === 0) await uidValidity(email, folder); // throws when the folder does not exist
      return rows.map((r) => ({
        // \Recent belongs to whichever session saw the message first, here doveadm's own: leave it out.
        uid: Number(r.uid),
        flags: r.flags.split(' ').filter((f) => f && f !== '\\Recent'),
        messageId: r['hdr.message-id'].trim() || undefined,
        internalDate: new Date(`${r['date.received'].replace(' ', 'T')}Z`), // doveadm ran with TZ=UTC
        size: Number(r['size.physical']),
        guid: r.guid,
      })).sort((a, b) => a.uid - b.uid);
    },

    uidValidity,

    async changeUidValidity(email, folder = INBOX, c = {}) {
      const next = (await uidValidity(email, folder)) + 1;
      await doveadm.run(['mailbox', 'update', '-u', users.get(email).email, '--uid-validity', String(next), folder]);
      // Dovecot does not tell a session that has the folder selected; real servers drop such sessions.
      if (c.kick !== false) await kick(email);
      return next;
    },

    kick,

    async connections(email) {
      return (await who(email)).reduce((n, row) => n + row.connections, 0);
    },

    async hibernated(email) {
      const pids = (await who(email)).flatMap((row) => row.pids);
      return pids.filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/imap-hibernate');
        } catch {
          return false;
        }
      }).length;
    },

    errors() {
      return server.log().split('\n').filter((line) => /: (Error|Fatal|Panic): /.test(line));
    },

    log() {
      return existsSync(p.log) ? readFileSync(p.log, 'utf8') : '';
    },

    stop() {
      stopped ??= (async () => {
        await master!.stop();
        if (!process.env.DOVECOT_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return server;
}
