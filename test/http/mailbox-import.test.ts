// CSV import of mailboxes over HTTP, with the job queue running: the template; bad files refused with a clear message;
// the preview's check of each row (unknown owner or profile, duplicate in the file or in Mailroom, invalid address or
// method, a Gmail profile's 100-mailbox cap); Import in the background to a summary and a CSV of the rows not
// imported; the same file again creates nothing twice; and a crash inside a row leaves it wholly undone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { tableRows, textOf } from '../helpers/html.ts';
import { until } from '../helpers/until.ts';
import { credentialsProfile, gmailProfile, mailboxes, rand } from '../helpers/mailbox-factory.ts';
import { runImport } from '../../src/imports/service.ts';

const HEADER = 'Name,Email Address,Owner Email,Server Profile,Incoming Email,Outgoing Email';

async function upload(client: TestClient, csv: string | Buffer, name = 'mailboxes.csv') {
  await client.get('/mailboxes/import');
  return client.upload('/mailboxes/import', { field: 'file', name, content: csv });
}

async function finished(ctx: TestContext, client: TestClient, id: string) {
  await until('the import to finish', async () => {
    const s = JSON.parse((await client.get(`/mailboxes/import/${id}/status.json`)).text);
    return s.status === 'DONE' ? s : undefined;
  });
  return ctx.db.prisma.mailboxImport.findUniqueOrThrow({ where: { id } });
}

describeEachDb(
  'CSV import of mailboxes',
  (ctx) => {
    const prisma = () => ctx().db.prisma;

    test('the template names the columns and is a CSV download; users get 403', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const res = await client.get('/mailboxes/import/template.csv');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="?mailboxes-template\.csv"?/);
      assert.equal(res.text.split('\r\n')[0], HEADER);
      assert.ok(res.text.split('\r\n')[1].includes(user.email));
      assert.match((await client.get('/mailboxes')).text, /href="\/mailboxes\/import">Import from CSV/);
      const { client: u } = await ctx().signedIn('USER');
      assert.equal((await u.get('/mailboxes/import')).status, 403);
      assert.equal((await u.get('/mailboxes/import/template.csv')).status, 403);
      assert.equal((await upload(u, `${HEADER}\nA,a@x.test,a@x.test,P,,\n`)).status, 403);
    });

    test('a bad file gets a clear error on the form and creates nothing', async () => {
      const { client } = await ctx().signedIn('ADMIN');
      const before = await prisma().mailboxImport.count();
      const cases: [string | Buffer, RegExp][] = [
        [Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]), /not UTF-8 text/],
        ['Name;Email\nA;b@x.test\n', /separated by semicolons or tabs: save the file as CSV with commas/],
        ['Name,Email,Owner\nA,b@x.test,c@x.test\n', /must name the columns .* Missing: Server Profile\./],
        [`${HEADER}\n"Unclosed,a@x.test,o@x.test,P,,\n`, /not valid CSV/],
        [`${HEADER}\n`, /header but no rows/],
        [Buffer.alloc(1024 * 1024 + 10, 'a'), /larger than 1 MB/],
      ];
      for (const [csv, message] of cases) {
        const res = await upload(client, csv);
        assert.equal(res.status, 422, String(message));
        assert.match(textOf(res.text), message);
        assert.match(res.text, /<input id="f-file" name="file" type="file"/);
      }
      const none = await client.upload('/mailboxes/import', { field: 'file', name: 'empty.csv', content: '' });
      assert.match(textOf(none.text), /Choose a CSV file to upload/);
      // Without the CSRF token the upload is refused like any other form.
      const forged = await client.upload(
        '/mailboxes/import',
        { field: 'file', name: 'a.csv', content: HEADER },
        { _csrf: 'x' },
      );
      assert.equal(forged.status, 403);
      assert.equal(await prisma().mailboxImport.count(), before);
    });

    test('preview, import, summary, rerun without duplicates; the cap and every kind of bad row reported', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const owner = await ctx().user();
      const gmail = await gmailProfile(prisma(), ctx().sealer);
      await mailboxes(prisma(), 98, { ownerId: user.id, profileId: gmail.id });
      const creds = await credentialsProfile(prisma());
      const [taken] = await mailboxes(prisma(), 1, { ownerId: user.id });
      const t = rand();
      const lines = [
        HEADER,
        `Sales ${t},sales-${t}@x.test,${owner.email.toUpperCase()},${creds.name},Server-Side Synchronization,None`, // 2 ok
        `"Support, ""EU"" ${t}",support-${t}@x.test,${owner.email},${gmail.name},,`, // 3 ok (99th)
        `Cap1 ${t},cap1-${t}@x.test,${owner.email},${gmail.name},SERVER_SIDE_SYNC,SERVER_SIDE_SYNC`, // 4 ok (100th)
        `Cap2 ${t},cap2-${t}@x.test,${owner.email},${gmail.name},,`, // 5 over the cap
        `Ghost ${t},ghost-${t}@x.test,nobody-${t}@x.test,${creds.name},,`, // 6 unknown owner
        `Lost ${t},lost-${t}@x.test,${owner.email},No such profile,,`, // 7 unknown profile
        `Again ${t},SALES-${t}@x.test,${owner.email},${creds.name},,`, // 8 duplicate in file
        `Old ${t},${taken.emailAddress},${owner.email},${creds.name},,`, // 9 exists in Mailroom
        `Bad ${t},not-an-address,${owner.email},${creds.name},,`, // 10 invalid address
        `Way ${t},way-${t}@x.test,${owner.email},${creds.name},Carrier pigeon,`, // 11 invalid method
      ];
      const csv = `${lines.join('\r\n')}\r\n`;
      const res = await upload(client, csv, `team-${t}.csv`);
      assert.equal(res.status, 303, textOf(res.text).slice(0, 300));
      const id = res.location!.split('/').pop()!;
      const preview = await client.get(res.location!);
      const result = (line: number) =>
        tableRows(preview.text, 'import-rows').find((r) => r[0] === String(line))?.[7] ?? '(no row)';
      assert.equal(result(2), 'Ready to import');
      assert.equal(result(3), 'Ready to import');
      assert.equal(result(4), 'Ready to import');
      assert.match(result(5), /^Error: The email server profile “.*” would serve more than 100 mailboxes/);
      assert.match(result(6), /^Error: Unknown owner: no active user has the email nobody-/);
      assert.match(result(7), /^Error: Unknown email server profile “No such profile”/);
      assert.match(result(8), /^Error: Duplicate address: line 2 of this file has sales-/);
      assert.match(result(9), /^Skipped: A mailbox with this email address already exists/);
      assert.match(result(10), /^Error: Email Address: Enter a valid email address/);
      assert.match(result(11), /^Error: Incoming Email “Carrier pigeon” is not a method/);
      assert.match(
        textOf(preview.text),
        /10 rows in the file\. 3 ready to import\. 1 already exists: skipped\. 6 with errors/,
      );
      assert.equal(
        await prisma().mailbox.count({ where: { emailAddress: { contains: t } } }),
        0,
        'the preview creates nothing',
      );

      assert.equal((await client.post(`/mailboxes/import/${id}/start`)).status, 303);
      assert.match(
        (await client.get(`/mailboxes/import/${id}`)).text,
        /<progress id="import-progress"|<\/strong> imported\./,
      );
      await finished(ctx(), client, id);
      const created = await prisma().mailbox.findMany({
        where: { emailAddress: { contains: t } },
        orderBy: { name: 'asc' },
      });
      assert.deepEqual(
        created.map((m) => [m.name, m.ownerId, m.profileId, m.incomingEmail, m.outgoingEmail, m.emailApproval]),
        [
          [`Cap1 ${t}`, owner.id, gmail.id, 'SERVER_SIDE_SYNC', 'SERVER_SIDE_SYNC', 'PENDING'],
          [`Sales ${t}`, owner.id, creds.id, 'SERVER_SIDE_SYNC', 'NONE', 'PENDING'],
          [`Support, "EU" ${t}`, owner.id, gmail.id, 'SERVER_SIDE_SYNC', 'SERVER_SIDE_SYNC', 'PENDING'],
        ],
      );
      assert.equal(await prisma().mailbox.count({ where: { profileId: gmail.id } }), 100);
      const summary = await client.get(`/mailboxes/import/${id}`);
      assert.match(
        textOf(summary.text),
        /3 mailboxes imported\. 1 mailbox skipped: the address already has a mailbox\. 6 rows not imported\./,
      );
      const failedCsv = await client.get(`/mailboxes/import/${id}/not-imported.csv`);
      assert.match(failedCsv.headers.get('content-disposition') ?? '', new RegExp(`team-${t}-not-imported\\.csv`));
      const csvLines = failedCsv.text.trim().split('\r\n');
      assert.equal(csvLines[0], `Line,${HEADER},Result,Reason`);
      assert.equal(csvLines.length, 8);
      assert.match(csvLines[1], /^5,Cap2 .*,Not imported,"?The email server profile/);
      assert.equal(
        await prisma().auditEvent.count({
          where: {
            action: 'mailbox.create',
            actorId: user.id,
            details: { path: ['emailAddress'], string_contains: t },
          },
        }),
        3,
      );
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'mailbox.import', targetId: id } }));

      // The same file again: every imported row is now "already exists", nothing is created twice.
      const again = await upload(client, csv, `team-${t}.csv`);
      const id2 = again.location!.split('/').pop()!;
      const preview2 = await client.get(again.location!);
      assert.match(textOf(preview2.text), /10 rows in the file\. 0 ready to import\. 4 already exist: skipped\./);
      const rows2 = await prisma().mailboxImportRow.findMany({ where: { importId: id2, status: 'EXISTS' } });
      assert.equal(rows2.length, 4);
      // Rows still valid in a rerun (here: made valid by a new profile name) import; the rest stays as it was.
      assert.equal(await prisma().mailbox.count({ where: { emailAddress: { contains: t } } }), 3);
    });

    test('an import whose admin lost the role before it ran creates nothing and says why', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const creds = await credentialsProfile(prisma());
      const t = rand();
      const res = await upload(client, `${HEADER}\nDemoted ${t},demoted-${t}@x.test,${user.email},${creds.name},,\n`);
      const id = res.location!.split('/').pop()!;
      await prisma().mailboxImport.update({ where: { id }, data: { status: 'QUEUED' } });
      await prisma().user.update({ where: { id: user.id }, data: { role: 'USER' } });
      await runImport(ctx().deps, id);
      const [row] = await prisma().mailboxImportRow.findMany({ where: { importId: id } });
      assert.equal(row.status, 'FAILED');
      assert.match(row.reason ?? '', /no longer an administrator/);
      assert.equal(await prisma().mailbox.count({ where: { emailAddress: { contains: t } } }), 0);
    });

    test('a crash inside a row rolls that row back whole; running the job again finishes without duplicates', async () => {
      const { client } = await ctx().signedIn('ADMIN');
      const owner = await ctx().user();
      const creds = await credentialsProfile(prisma());
      const t = rand();
      const csv = [
        HEADER,
        ...[1, 2, 3, 4].map((i) => `Crash ${i} ${t},crash${i}-${t}@x.test,${owner.email},${creds.name},,`),
      ].join('\n');
      const res = await upload(client, csv);
      const id = res.location!.split('/').pop()!;
      // The process "dies" while row 3 is being written: after its mailbox insert, at its status update.
      await prisma().$executeRawUnsafe(`
        CREATE OR REPLACE FUNCTION crash_${t}() RETURNS trigger AS $$
        BEGIN
          IF NEW.status = 'CREATED' AND NEW."emailAddress" = 'crash3-${t}@x.test' THEN RAISE EXCEPTION 'simulated crash'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`);
      await prisma().$executeRawUnsafe(
        `CREATE TRIGGER crash_${t} BEFORE UPDATE ON "MailboxImportRow" FOR EACH ROW EXECUTE FUNCTION crash_${t}()`,
      );
      try {
        await prisma().mailboxImport.update({ where: { id }, data: { status: 'QUEUED' } });
        await assert.rejects(runImport(ctx().deps, id), /simulated crash/);
      } finally {
        await prisma().$executeRawUnsafe(`DROP TRIGGER crash_${t} ON "MailboxImportRow"`);
      }
      const state = async () =>
        (await prisma().mailboxImportRow.findMany({ where: { importId: id }, orderBy: { line: 'asc' } })).map(
          (r) => r.status,
        );
      assert.deepEqual(await state(), ['CREATED', 'CREATED', 'PENDING', 'PENDING']);
      assert.equal(
        await prisma().mailbox.count({ where: { emailAddress: `crash3-${t}@x.test` } }),
        0,
        'no half-imported row',
      );
      assert.equal((await prisma().mailboxImport.findUniqueOrThrow({ where: { id } })).status, 'RUNNING');
      // Run again (pg-boss's retry does this after a crash): the rest is imported, nothing twice.
      await runImport(ctx().deps, id);
      assert.deepEqual(await state(), ['CREATED', 'CREATED', 'CREATED', 'CREATED']);
      assert.equal(await prisma().mailbox.count({ where: { emailAddress: { contains: t } } }), 4);
      assert.equal((await prisma().mailboxImport.findUniqueOrThrow({ where: { id } })).status, 'DONE');
    });
  },
  { jobs: true },
);
