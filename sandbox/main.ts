// `npm run sandbox`: Mailroom on a fresh embedded database with the local Google look-alike and Gmail IMAP/POP3/SMTP servers, seeded.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { loadConfig, ConfigError } from '../src/config.ts';
import { startRuntime, type Runtime } from '../src/runtime.ts';
import { lockDataDir, DataDirLockedError } from '../src/db/lock.ts';
import { createSealer } from '../src/security/secrets.ts';
import { gmailRedirectUri } from '../src/profiles/redirect-uri.ts';
import { startGmailWorld, type GmailWorld } from '../test/helpers/gmail-world.ts';
import { seedSandbox, LIVE_MAILBOXES, MAILBOXES, PEOPLE, SANDBOX_PASSWORD } from './seed.ts';
import { startLiveMail, type LiveMail } from './live-mail.ts';
import { startMailDesk, type MailDesk } from './mail-desk.ts';

const DIR = resolve(import.meta.dirname, '../.sandbox');
const port = process.env.SANDBOX_PORT || '3000';
const publicUrl = `http://localhost:${port}`;
const deskPort = process.env.SANDBOX_MAIL_PORT || String(Number(port) + 1);

function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n`);
  process.exit(1);
}

// One sandbox at a time: the lock on .sandbox guards the reset of .sandbox/data below.
let releaseDir: () => void;
try {
  releaseDir = lockDataDir(DIR);
} catch (e) {
  if (e instanceof DataDirLockedError)
    fail(
      `another sandbox is running (${/pid \d+/.exec(e.message)?.[0] ?? 'see .sandbox/mailroom.lock'}). Stop it first.`,
    );
  throw e;
}
// The fakes live in memory on random ports, so yesterday's tokens and profile ports would be stale: start clean every time.
const dataDir = join(DIR, 'data');
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });

let world: GmailWorld | undefined;
let rt: Runtime | undefined;
let live: LiveMail | undefined;
let desk: MailDesk | undefined;
async function stopAll(): Promise<void> {
  await desk?.close();
  await rt?.stop();
  await live?.dovecot?.stop();
  await world?.close();
  releaseDir();
}

let stopping = false;
// Installed before start-up, so Ctrl-C while starting also stops what already runs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping the sandbox…\n');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stopAll().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`sandbox: did not stop cleanly: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}

try {
  world = await startGmailWorld();
  const w = world;
  w.google.setConsentMode('page');
  w.google.addClient({
    clientId: w.clientId,
    clientSecret: w.clientSecret,
    redirectUris: [gmailRedirectUri(publicUrl)],
    name: 'Mailroom Sandbox',
  });
  live = await startLiveMail(w.google);
  const caFile = join(DIR, 'mail-test-ca.pem');
  writeFileSync(caFile, w.mail.ca);

  const config = loadConfig({
    NODE_ENV: 'development',
    PORT: port,
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    MAIL_TLS_CA_FILE: caFile,
    ...w.googleEnv,
    // Throwaway keys: the data dies with the sandbox, so nothing needs keys.json.
    SECRETS_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
  });
  const sealer = createSealer(config.secretsKeys.current, config.secretsKeys.old);
  const dovecot = live.dovecot;
  rt = await startRuntime(config, undefined, { beforeListen: (db) => seedSandbox(db.prisma, sealer, w, dovecot) });
  desk = await startMailDesk({
    port: Number(deskPort),
    mailroomUrl: publicUrl,
    mailboxes: LIVE_MAILBOXES.map((m) => ({ name: m.name, email: m.email })),
    live,
  });
} catch (e) {
  await stopAll().catch(() => undefined);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE')
    fail(
      `port ${rt ? deskPort : port} is in use. Choose others with SANDBOX_PORT=3010 (Mailroom) and SANDBOX_MAIL_PORT=3011 (the mail desk) npm run sandbox`,
    );
  if (e instanceof ConfigError || e instanceof DataDirLockedError) fail(err.message);
  throw e;
}

const w = world!;
const mail = `IMAP 127.0.0.1:${w.mail.imap.port} · POP3 127.0.0.1:${w.mail.pop3.port} · SMTP 127.0.0.1:${w.mail.smtp.starttlsPort} (STARTTLS)`;
const liveLine = live?.dovecot
  ? `Live mail: ${desk!.url} — "Send a test email to this mailbox" drops a message into a local Dovecot
       (IMAP 127.0.0.1:${live.dovecot.imap.port}); an enabled mailbox shows it under Emails within seconds.
       Or: curl -d to=${MAILBOXES.connected.email} ${desk!.url}/send`
  : `Live mail: off — ${live?.reason}.
       Test & Enable works; nothing delivers new mail (${desk!.url} says the same).`;
process.stdout.write(`
Mailroom sandbox: ${publicUrl}

  Administrator   ${PEOPLE.admin.email}  /  ${SANDBOX_PASSWORD}
  Mailbox user    ${PEOPLE.user.email}  /  ${SANDBOX_PASSWORD}

  Mailboxes of ${PEOPLE.user.name} (profile "Gmail (local sandbox)"):
${Object.values(MAILBOXES)
  .map((m) => `    ${m.name.padEnd(20)} ${m.email.padEnd(22)} ${m.story}`)
  .join('\n')}

  Try: sign in as ${PEOPLE.user.email} → Mailboxes → ${MAILBOXES.fresh.name} → Sign in to Gmail →
       on the local Google page choose ${MAILBOXES.fresh.email} and Allow → Test & Enable Mailbox.

  Then: ${liveLine}

  Local Google (consent page): ${w.google.url}
  Local Gmail servers (scripted): ${mail}
  Data: ${dataDir} (reset at every start). Ctrl-C stops everything.

`);
