// A database blip on PostgreSQL: the app's connections are terminated (pg_terminate_backend) while a request waits on
// the database. That request gets the app's own error page (not Express's bare 500 with a stack), and pages and jobs
// work again without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { dbModes } from '../helpers/db.ts';
import { leakIn } from '../helpers/leaks.ts';
import { waitFor } from '../helpers/wait.ts';
import { QUEUES } from '../../src/jobs/boss.ts';

const onPostgres = dbModes().includes('postgres');
let ctx: TestContext;

before(async () => {
  if (onPostgres) ctx = await createTestContext('postgres', { jobs: true });
});
after(async () => {
  await ctx?.close();
});

/** Ends every connection to the test database but `admin`'s own: the app's pool, pg-boss's pool, all of them. */
async function terminateAppConnections(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return rows.filter((r) => r.ok).length;
}

test('connections terminated mid-request: the error page, then pages and jobs recover', {
  skip: !onPostgres,
}, async () => {
  const { client } = await ctx.signedIn('ADMIN');
  assert.equal((await client.get('/mailboxes')).status, 200);
  const admin = new pg.Client({ connectionString: ctx.testDb.url });
  await admin.connect();
  try {
    // Hold the mailbox table so the next page's list waits on the database, then cut the connections under it. (Not
    // the users table: the session and its user may come from the session cache, decision 033, and not wait at all.)
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE "Mailbox" IN ACCESS EXCLUSIVE MODE');
    const pending = client.get('/mailboxes', { accept: 'text/html' });
    await waitFor('the page to wait on the lock', async () => {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      return rows[0].n > 0 ? true : undefined;
    });
    assert.ok((await terminateAppConnections(admin)) > 0);
    await admin.query('ROLLBACK');
    const res = await pending;
    assert.equal(res.status, 500);
    assert.match(res.text, /<h1>Something went wrong<\/h1>/, res.text);
    assert.equal(leakIn(res.text), undefined);

    // Idle connections cut too: the next requests may meet a dead pooled connection, but never a bare 500.
    await terminateAppConnections(admin);
    const page = await waitFor('a page to load again', async () => {
      const r = await client.get('/mailboxes');
      assert.equal(leakIn(r.text), undefined);
      if (r.status === 500) assert.match(r.text, /Something went wrong/);
      return r.status === 200 ? r : undefined;
    });
    assert.match(page.text, /Mailboxes/);

    const boss = ctx.jobs!.boss;
    const id = await waitFor('a job to be queued', () =>
      boss.send(QUEUES.sweepSessions, {}).then((v) => v ?? undefined),
    );
    await waitFor('the job to run', async () => {
      const job = await boss.getJobById(QUEUES.sweepSessions, id);
      return job?.state === 'completed' ? true : undefined;
    });
  } finally {
    await admin.end();
  }
});
