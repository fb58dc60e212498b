// What the harness asks Dovecot through doveadm: folders, messages, UIDVALIDITY, and who is connected (anvil).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DOVEADM_NOTHING, type Doveadm } from './doveadm.ts';
import type { DovecotServer } from './types.ts';
import type { Users } from './users.ts';

const StatusRow = z.object({ uidvalidity: z.string() });
const FetchRow = z.object({
  uid: z.string(),
  flags: z.string(),
  'hdr.message-id': z.string(),
  'date.received': z.string(),
  'size.physical': z.string(),
  guid: z.string(),
});
const ListRow = z.object({ mailbox: z.string() });

export const INBOX = 'INBOX';

type AdminOps =
  | 'uidOf'
  | 'createFolder'
  | 'folders'
  | 'listFolder'
  | 'uidValidity'
  | 'changeUidValidity'
  | 'kick'
  | 'connections'
  | 'hibernated'
  | 'whoPids';
/** The server's doveadm-backed operations, plus where a folder's Maildir is (for delivery). */
type Admin = Pick<DovecotServer, AdminOps> & { folderDir(email: string, folder: string): Promise<string> };

export function mailboxAdmin(doveadm: Doveadm, users: Users): Admin {
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
    return out
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [, count, , pids] = line.split('\t');
        const pidList = (pids ?? '').replace(/[()]/g, '').split(' ').filter(Boolean).map(Number);
        return { connections: Number(count ?? 0), pids: pidList };
      });
  }

  const whoPids = async (email: string) => (await who(email)).flatMap((row) => row.pids);

  return {
    folderDir,

    async uidOf(email, delivered, folder = INBOX) {
      const user = users.get(email).email;
      const out = await doveadm.run([
        '-f',
        'flow',
        'fetch',
        '-u',
        user,
        'uid',
        'mailbox',
        folder,
        'guid',
        delivered.guid,
      ]);
      const uid = /^uid=(\d+)/m.exec(out)?.[1];
      if (!uid) throw new Error(`No message ${delivered.guid} in "${folder}" of ${email}.`);
      return Number(uid);
    },

    createFolder,

    async folders(email) {
      const rows = await doveadm.json(['mailbox', 'list', '-u', users.get(email).email], ListRow);
      return rows.map((r) => r.mailbox);
    },

    async listFolder(email, folder = INBOX) {
      const user = users.get(email);
      const fields = 'uid flags hdr.message-id date.received size.physical guid';
      const rows = await doveadm.json(['fetch', '-u', user.email, fields, 'mailbox', folder, 'all'], FetchRow);
      if (rows.length === 0) await uidValidity(email, folder); // throws when the folder does not exist
      return rows
        .map((r) => ({
          // \Recent belongs to whichever session saw the message first, here doveadm's own: leave it out.
          uid: Number(r.uid),
          flags: r.flags.split(' ').filter((f) => f && f !== '\\Recent'),
          messageId: r['hdr.message-id'].trim() || undefined,
          internalDate: new Date(`${r['date.received'].replace(' ', 'T')}Z`), // doveadm ran with TZ=UTC
          size: Number(r['size.physical']),
          guid: r.guid,
        }))
        .sort((a, b) => a.uid - b.uid);
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

    whoPids,

    async hibernated(email) {
      const pids = await whoPids(email);
      return pids.filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/imap-hibernate');
        } catch {
          return false;
        }
      }).length;
    },
  };
}
