// Leases commit without waiting for their flush (decision 044). On the embedded database on disk every commit was an
// fsync of the WAL on its one thread (decision 042), about six a Test & Enable job. The run's claim, the grant's
// refresh claim and the refreshed access token are ones a crash may lose — the holder dies with them, the work is redone
// — so they commit without an fsync; the outcome still flushes before it returns, and with it everything before it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgliteDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import { createUser } from '../../src/auth/users.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { createGoogleClient } from '../../src/gmail/google-client.ts';
import { gmailProvider } from '../../src/gmail/provider.ts';
import { createLogger } from '../../src/logger.ts';
import { claimRun, writeOutcome } from '../../src/checks/worker.ts';
import { mailboxCredentialFields, profileCredentialFields } from '../../src/mail/credentials.ts';
import { dbModes } from '../helpers/db.ts';
import {
  createConnectedMailbox,
  createGmailProfile,
  startGmailWorld,
  type GmailWorld,
} from '../helpers/gmail-world.ts';

/** The files fsync(2) is called on in this thread while `fn` runs (the database runs in this thread here). */
async function fsyncedFiles(fn: () => Promise<unknown>): Promise<string[]> {
  const real = fs.fsyncSync;
  const files: string[] = [];
  fs.fsyncSync = (fd: number) => {
    files.push(readlinkSync(`/proc/self/fd/${fd}`));
    real(fd);
  };
  try {
    await fn();
  } finally {
    fs.fsyncSync = real;
  }
  return files;
}
const wal = (files: string[]) => files.filter((f) => f.includes('/pg_wal/'));

if (dbModes().includes('pglite')) {
  describe('leases on the embedded database on disk', () => {
    let dir: string;
    let db: Database;
    let w: GmailWorld;
    const sealer = createSealer(randomBytes(32));
    let ownerId: string;
    let profileId: string;
    let processId: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mailroom-leases-'));
      db = pgliteDatabase(await PGlite.create(pgliteOptions({ dataDir: dir })));
      await migrate(db);
      w = await startGmailWorld();
      ownerId = (
        await createUser(db.prisma, {
          email: 'owner@leases.test',
          name: 'Owner',
          password: 'a long password',
          role: 'ADMIN',
        })
      ).id;
      profileId = (await createGmailProfile(db.prisma, sealer, w)).id;
      processId = (
        await db.prisma.workerProcess.create({
          data: { id: randomUUID(), host: 'test', pid: process.pid, role: 'worker' },
        })
      ).id;
    });
    after(async () => {
      await db?.close();
      await w?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('a run’s claim commits without an fsync when unflushed, and the outcome flushes', async () => {
      const mb = await createConnectedMailbox(db.prisma, sealer, w, { ownerId, profileId });
      const jobId = randomUUID();
      await db.prisma.testRun.create({ data: { mailboxId: mb.id, status: 'QUEUED', jobId } });
      let claimed: Awaited<ReturnType<typeof claimRun>>;
      const claim = await fsyncedFiles(async () => {
        claimed = await claimRun(db.raw, jobId, processId, { unflushed: true });
      });
      assert.ok(claimed, 'claimed');
      assert.deepEqual(wal(claim), [], `no WAL fsync for the claim (fsynced: ${JSON.stringify(claim)})`);
      const row = await db.prisma.testRun.findFirstOrThrow({ where: { jobId } });
      assert.deepEqual([row.status, row.runnerProcessId], ['RUNNING', processId]);
      const outcome = await fsyncedFiles(async () => {
        const written = await writeOutcome(db.raw, processId, claimed!.run, [], {
          retry: false,
          gaveUp: false,
          incomingStatus: 'SUCCESS',
          outgoingStatus: 'SUCCESS',
          enabledForIncoming: true,
          enabledForOutgoing: true,
          alert: { level: 'INFO', code: 'ENABLED', message: 'Enabled.', hint: '' },
        });
        assert.equal(written, true);
      });
      assert.ok(wal(outcome).length > 0, 'the outcome waits for its flush');
      // By default (PostgreSQL's workers) the claim flushes as before.
      const job2 = randomUUID();
      await db.prisma.testRun.create({ data: { mailboxId: mb.id, status: 'QUEUED', jobId: job2 } });
      const durable = await fsyncedFiles(() => claimRun(db.raw, job2, processId));
      assert.ok(wal(durable).length > 0, 'a durable claim flushes');
      // The setting is the statement's own: the next statement is durable again.
      const next = await fsyncedFiles(() =>
        db.raw.query(`UPDATE "TestRun" SET attempt = attempt WHERE "jobId" = $1`, [job2]),
      );
      assert.ok(wal(next).length > 0);
    });

    test('a token refresh (claim, new token, claim released) commits without an fsync', async () => {
      const email = `lease-${randomBytes(3).toString('hex')}@gmail.test`;
      await createConnectedMailbox(db.prisma, sealer, w, { ownerId, profileId, email, expired: true });
      const { profile, ...mailbox } = await db.prisma.mailbox.findFirstOrThrow({
        where: { emailAddress: email },
        select: { ...mailboxCredentialFields, profile: { select: profileCredentialFields } },
      });
      assert.ok(profile);
      const provider = gmailProvider({
        prisma: db.prisma,
        sql: db.raw,
        sealer,
        google: createGoogleClient({
          authorizationUrl: w.googleEnv.GOOGLE_AUTHORIZATION_URL ?? '',
          tokenUrl: w.google.endpoints.token,
          userinfoUrl: w.google.endpoints.userinfo,
          revokeUrl: w.google.endpoints.revoke,
        }),
        logger: createLogger('silent'),
      });
      const before = w.google.stats().refreshes;
      let ok = false;
      const files = await fsyncedFiles(async () => {
        const r = await provider.credentials({ ...mailbox, profile });
        ok = r.ok;
      });
      assert.ok(ok);
      assert.equal(w.google.stats().refreshes, before + 1, 'refreshed');
      assert.deepEqual(wal(files), [], `no WAL fsync for the refresh (fsynced: ${JSON.stringify(files)})`);
      const grant = await db.prisma.gmailGrant.findFirstOrThrow({ where: { googleEmail: email } });
      assert.deepEqual([grant.refreshClaimedBy, grant.refreshClaimedUntil], [null, null], 'claim released');
      assert.ok(grant.accessTokenExpiresAt.getTime() > Date.now() + 30 * 60_000, 'the new token is stored');
    });
  });
}
