// Mail users of one instance: a JSON file per user for Dovecot's dict userdb/passdb (uid, home, password) and a
// Maildir home owned by the user's own uid.
import { randomInt } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MailUser {
  email: string;
  uid: number;
  home: string;
  maildir: string;
  password?: string;
}

/** Addresses are Dovecot user names and file names: keep them to what both take without escaping. */
const EMAIL = /^[a-z0-9._%+-]+@[a-z0-9.-]+$/;

export class Users {
  private readonly byEmail = new Map<string, MailUser>();
  // A random uid range per instance: the inotify limit is per uid across the whole machine, so two test
  // processes must not pile their users onto the same uids.
  private nextUid = 1_000_000 + randomInt(0, 2_000_000) * 100;
  private readonly passdb: string;
  private readonly userdb: string;

  constructor(private readonly dirs: { auth: string; mail: string }) {
    this.passdb = join(dirs.auth, 'passdb');
    this.userdb = join(dirs.auth, 'userdb');
    // Passwords are readable by Dovecot's auth process (group dovecot) and root only.
    for (const d of [dirs.auth, this.passdb, this.userdb]) {
      mkdirSync(d, { mode: 0o750 });
      chownSync(d, 0, dovecotGid());
    }
  }

  get(email: string): MailUser {
    const user = this.byEmail.get(email.toLowerCase());
    if (!user) throw new Error(`No mail user ${email} on this Dovecot: addUser() first.`);
    return user;
  }

  /** Creates the user (home and an empty Maildir INBOX owned by their uid), or sets/removes their password. */
  add(emailIn: string, o: { password?: string } = {}): MailUser {
    const email = emailIn.toLowerCase();
    if (!EMAIL.test(email)) throw new Error(`Not a usable test address: ${emailIn}`);
    let user = this.byEmail.get(email);
    if (!user) {
      const uid = this.nextUid++;
      const home = join(this.dirs.mail, email);
      const created: MailUser = { email, uid, home, maildir: join(home, 'Maildir') };
      for (const dir of [home, created.maildir, ...['cur', 'new', 'tmp'].map((d) => join(created.maildir, d))]) {
        mkdirSync(dir, { mode: 0o700 });
        chownSync(dir, uid, uid);
      }
      writeAtomic(join(this.userdb, email), JSON.stringify({ uid: String(uid), gid: String(uid), home }));
      this.byEmail.set(email, created);
      user = created;
    }
    if ('password' in o) {
      user.password = o.password;
      const file = join(this.passdb, email);
      // {PLAIN.B64}: any character survives; without a file, password logins fail as for an unknown user.
      if (o.password === undefined) rmSync(file, { force: true });
      else writeAtomic(file, JSON.stringify({ password: `{PLAIN.B64}${Buffer.from(o.password).toString('base64')}` }));
    }
    return user;
  }
}

/** Written aside, then renamed: Dovecot reads the file at each lookup and must never see half of one. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o640 });
  chownSync(tmp, 0, dovecotGid());
  renameSync(tmp, path);
}

let gid: number | undefined;
/** The group Dovecot's auth process runs as (Debian's package creates it). */
function dovecotGid(): number {
  gid ??= Number(/^dovecot:[^:]*:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1] ?? 0);
  return gid;
}
