// The sandbox's live mail server: a real Dovecot (decision 011's harness) when this machine can run it, so a newcomer
// sees synchronization receive mail over IMAP IDLE. Without it the sandbox still starts, on the scripted servers only.
import { existsSync } from 'node:fs';
import { startDovecot, type DovecotServer } from '../test/fakes/dovecot.ts';
import { DOVECOT } from '../test/fakes/dovecot/process.ts';
import type { FakeGoogle } from '../test/fakes/google.ts';

export type LiveMail = { dovecot: DovecotServer; reason?: undefined } | { dovecot?: undefined; reason: string };

const INSTALL = 'sudo apt-get install dovecot-imapd dovecot-pop3d';

/** Starts Dovecot, or says in one sentence why the sandbox has no live mail and what would give it. */
export async function startLiveMail(google: FakeGoogle, env = process.env): Promise<LiveMail> {
  if (env.SANDBOX_LIVE_MAIL === '0') return { reason: 'turned off by SANDBOX_LIVE_MAIL=0' };
  if (process.platform !== 'linux') return { reason: 'the local Dovecot runs on Linux only' };
  if (!existsSync(DOVECOT)) return { reason: `Dovecot is not installed (${INSTALL}, then start the sandbox as root)` };
  if (process.getuid?.() !== 0)
    return {
      reason: 'the local Dovecot needs root (it gives each mail account a uid of its own): sudo npm run sandbox',
    };
  try {
    return { dovecot: await startDovecot({ google }) };
  } catch (e) {
    return { reason: `Dovecot did not start: ${(e as Error).message.split('\n')[0]}` };
  }
}

let n = 0;
/** A friendly test message, as an outside sender would write it. */
export function sandboxMessage(to: string, subject?: string): string {
  const at = new Date();
  const id = `<sandbox-${at.getTime()}-${++n}@sandbox.mailroom.test>`;
  const title = subject?.trim() || `Test email ${n} — ${at.toISOString().slice(11, 19)} UTC`;
  return [
    'From: Sandbox Sender <sender@sandbox.mailroom.test>',
    `To: ${to}`,
    `Subject: ${title.replace(/[\r\n]+/g, ' ').slice(0, 200)}`,
    `Message-ID: ${id}`,
    `Date: ${at.toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello! This message was dropped into ${to} by the sandbox's local mail server at ${at.toISOString()}.`,
    'Mailroom holds an IMAP IDLE connection to every mailbox enabled for incoming Server-Side Synchronization,',
    'so it should be in the Emails list within a couple of seconds.',
    '',
  ].join('\r\n');
}
