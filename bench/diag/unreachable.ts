// Diagnostic (decision 025): the CPU of one worker process whose N enabled mailboxes all point at an IMAP server that
// refuses connections. They must back off ("retry n of 10"), not spin through the connection-slot queue.
//   npx tsx bench/diag/unreachable.ts [mailboxes=2000] [profiles=20] [cap=10] [root=.]
// `root` runs the worker from another checkout (e.g. /work/main for the before figure). PostgreSQL:
// BENCH_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/postgres.
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { postgresDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer, SEALED } from '../../src/security/secrets.ts';
import { procCpuSeconds, sleep } from '../util.ts';

const [n = 2000, profiles = 20, cap = 10] = process.argv.slice(2, 5).map(Number);
const root = resolve(process.argv[5] ?? '.');
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `mailroom_unreach_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const u = new URL(adminUrl);
u.pathname = `/${name}`;
const db = postgresDatabase(u.toString(), 4);
const key = randomBytes(32);
try {
  await migrate(db);
  const sealer = createSealer(key);
  const owner = await db.prisma.user.create({
    data: { email: 'o@unreach.test', name: 'Owner', passwordHash: 'x', role: 'USER' },
  });
  const password = sealer.seal('secret', SEALED.mailboxPassword);
  for (let p = 0; p < profiles; p++) {
    const profile = await db.prisma.emailServerProfile.create({
      data: {
        name: `Unreachable ${p}`,
        serverType: 'IMAP',
        incomingServer: '127.0.0.1',
        incomingPort: 1, // nothing listens: refused at once
        incomingUseSsl: true,
        outgoingServer: '127.0.0.1',
        outgoingPort: 9,
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        maxConcurrentConnections: cap,
      },
    });
    const per = Math.ceil(n / profiles);
    await db.prisma.mailbox.createMany({
      data: Array.from({ length: per }, (_, i) => ({
        name: `mb-${p}-${i}`,
        emailAddress: `mb-${p}-${i}@unreach.test`,
        ownerId: owner.id,
        profileId: profile.id,
        emailApproval: 'APPROVED' as const,
        incomingEmail: 'SERVER_SIDE_SYNC' as const,
        outgoingEmail: 'NONE' as const,
        enabledForIncoming: true,
        incomingStatus: 'SUCCESS' as const,
        credentialUsername: `mb-${p}-${i}`,
        credentialPassword: password,
      })),
    });
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      DATABASE_URL: u.toString(),
      SECRETS_KEY: key.toString('base64'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PORT: '0',
      MAILROOM_ROLE: 'worker',
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', openSync(`/tmp/${name}.log`, 'w'), openSync(`/tmp/${name}.log`, 'a')],
  });
  console.log(`worker log: /tmp/${name}.log`);
  // Start-up (tsx, migrations, pg-boss) takes a minute on a busy machine: count from the first claimed mailbox.
  for (const w0 = Date.now(); !(await db.prisma.mailboxSync.count({ where: { ownerId: { not: null } } })); )
    if (Date.now() - w0 > 300_000) throw new Error('the worker did not start');
    else await sleep(1000);
  const t0 = Date.now();
  const states = async () =>
    Object.fromEntries(
      (
        await db.raw.query<{ state: string; n: number }>(
          `SELECT state::text, count(*)::int AS n FROM "MailboxSync" GROUP BY 1 ORDER BY 1`,
        )
      ).map((r) => [r.state, r.n]),
    );
  for (let i = 0; i < Number(process.env.SAMPLES ?? 12); i++) {
    const c0 = procCpuSeconds(child.pid!);
    await sleep(20_000);
    const cpu = ((procCpuSeconds(child.pid!) - c0) / 20) * 100;
    const retries = await db.raw.query<{ r: number; n: number }>(
      `SELECT "retryCount" AS r, count(*)::int AS n FROM "MailboxSync" GROUP BY 1 ORDER BY 1`,
    );
    console.log(
      JSON.stringify({
        at_s: Math.round((Date.now() - t0) / 1000),
        cpuPercentOfOneCore: Math.round(cpu),
        states: await states(),
        retryCounts: Object.fromEntries(retries.map((r) => [r.r, r.n])),
        load: loadavg().map((x) => x.toFixed(1)),
      }),
    );
  }
  const [alert] = await db.raw.query<{ message: string }>(
    `SELECT message FROM "Alert" WHERE message LIKE '%retry%' ORDER BY "createdAt" DESC LIMIT 1`,
  );
  console.log('latest retry alert:', alert?.message);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  await admin.end();
}
