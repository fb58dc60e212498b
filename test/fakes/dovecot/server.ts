// startDovecot(): one real Dovecot (IMAP + POP3 over TLS on loopback) per call, configured in a private temp dir,
// with the controls synchronization tests need: users, delivery, folders, UIDVALIDITY changes, kicks.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from '../mail/tls.ts';
import { pathsOf, renderAuthDict, renderConfig, renderOauth2, type DovecotLayout } from './config.ts';
import { doveadmFor } from './doveadm.ts';
import { GMAIL_FOLDERS } from './gmail.ts';
import { writeToMaildir } from './maildir.ts';
import { INBOX, mailboxAdmin } from './mailboxes.ts';
import { assertDovecotUsable, DovecotStartError, freePorts, startMaster } from './process.ts';
import type { DovecotServer, StartDovecotOptions } from './types.ts';
import { Users } from './users.ts';

export type { DeliverOptions, DovecotServer, Endpoint, FolderMessage, StartDovecotOptions } from './types.ts';

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
    dir,
    ports,
    instanceName: `mailroom-${randomBytes(4).toString('hex')}`,
    tokeninfoUrl: o.google.endpoints.tokeninfo,
    hibernateSeconds: o.hibernateSeconds ?? 1,
  });

  let master: Awaited<ReturnType<typeof startMaster>> | undefined;
  let l: DovecotLayout | undefined;
  for (let attempt = 1; !master; attempt++) {
    const [imaps, imap, pop3s] = (await freePorts(3)) as [number, number, number];
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

  const { folderDir, ...admin } = mailboxAdmin(doveadm, users);

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
      if (uo.gmail) for (const f of GMAIL_FOLDERS) await admin.createFolder(email, f.name);
    },

    async deliver(email, raw, d = {}) {
      const dirOf = await folderDir(email, d.folder ?? INBOX);
      return writeToMaildir(dirOf, users.get(email).uid, raw, d);
    },

    ...admin,

    errors() {
      return server
        .log()
        .split('\n')
        .filter((line) => /: (Error|Fatal|Panic): /.test(line));
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
