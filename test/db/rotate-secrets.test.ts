// Key rotation on both engines: every sealed field is re-sealed with the current key in batches, a run can stop and be
// resumed, a value the app changes meanwhile (a token refresh) is kept, values no key opens are reported and left alone,
// and afterwards every value opens with the current key alone.
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { openAll, seedSecrets as seed } from '../helpers/sealed-fixtures.ts';
import { createSealer, SEALED } from '../../src/security/secrets.ts';
import { rotateSecrets, type ColumnReport } from '../../src/security/rotate.ts';

const key = () => randomBytes(32);

const total = (reports: ColumnReport[], k: keyof Omit<ColumnReport, 'field'>) => reports.reduce((n, r) => n + r[k], 0);

for (const mode of dbModes()) {
  describe(`secrets rotation [${mode}]`, () => {
    // Each test on its own database, seeded with values sealed by its own keys.
    let t: TestDb;
    beforeEach(async () => {
      t = await createTestDb(mode);
    });
    afterEach(async () => {
      await t?.drop();
    });

    test('every sealed field is re-sealed in batches; then the current key alone opens every value', async () => {
      const oldKey = key();
      const newKey = key();
      const seeded = await seed(t.db, createSealer(oldKey));
      const before = await openAll(t.db, createSealer(oldKey));
      assert.equal(before.size, 3 + 12 + 12 + 11 + 1);
      const batches: string[] = [];
      const reports = await rotateSecrets(t.db.raw, createSealer(newKey, [oldKey]), {
        batchSize: 5,
        onBatch: (field) => batches.push(field),
      });
      assert.deepEqual(
        reports.map((r) => [r.field, r.resealed, r.remaining]),
        [
          ['EmailServerProfile.oauthClientSecret', 3, 0],
          ['Mailbox.credentialPassword', 12, 0],
          ['GmailGrant.accessToken', 12, 0],
          ['GmailGrant.refreshToken', 11, 0],
          ['Setting.value', 1, 0],
        ],
      );
      assert.ok(batches.filter((f) => f === 'Mailbox.credentialPassword').length >= 3, 'batches of 5');
      const after = await openAll(t.db, createSealer(newKey)); // no old key: throws if any value still needs it
      assert.equal(after.size, before.size);
      const newId = createSealer(newKey).keyId;
      for (const [where, v] of after) {
        assert.equal(v.plain, before.get(where)!.plain, where);
        assert.equal(v.keyId, newId, where);
      }
      assert.ok(seeded.setupToken);
      // A second run finds nothing to do.
      const again = await rotateSecrets(t.db.raw, createSealer(newKey, [oldKey]));
      assert.equal(total(again, 'resealed'), 0);
      assert.equal(total(again, 'current'), before.size);
    });

    test('stopped midway, a second run finishes the rest', async () => {
      const [a, b] = [key(), key()];
      await seed(t.db, createSealer(a));
      const stop = new AbortController();
      const first = await rotateSecrets(t.db.raw, createSealer(b, [a]), {
        batchSize: 4,
        signal: stop.signal,
        onBatch: (field) => {
          if (field === 'GmailGrant.accessToken') stop.abort();
        },
      });
      const grants = first.find((r) => r.field === 'GmailGrant.accessToken')!;
      assert.equal(grants.resealed, 4, 'one batch, then stopped');
      assert.equal(grants.remaining, 8);
      assert.equal(first.length, 3, 'the later fields were not started');
      const second = await rotateSecrets(t.db.raw, createSealer(b, [a]), { batchSize: 4 });
      assert.equal(second.find((r) => r.field === 'GmailGrant.accessToken')!.resealed, 8);
      assert.equal(second.find((r) => r.field === 'Mailbox.credentialPassword')!.resealed, 0, 'done by the first run');
      assert.equal(total(second, 'remaining'), 0);
      await openAll(t.db, createSealer(b));
    });

    test('a token refreshed while the rotation runs is kept, not overwritten with the one read before', async () => {
      const [a, b] = [key(), key()];
      const app = createSealer(b, [a]); // the running app, already restarted with the new key
      await seed(t.db, createSealer(a));
      const grants = await t.db.prisma.gmailGrant.findMany();
      let refreshedId: string | undefined;
      const reports = await rotateSecrets(t.db.raw, createSealer(b, [a]), {
        batchSize: 100,
        afterRead: async (field, rows) => {
          if (field !== 'GmailGrant.accessToken' || refreshedId) return;
          refreshedId = rows[3].key; // the app refreshes this mailbox's token after the rotation read it
          await t.db.prisma.gmailGrant.update({
            where: { id: refreshedId },
            data: { accessToken: app.seal('refreshed', SEALED.grantAccessToken) },
          });
        },
      });
      const r = reports.find((x) => x.field === 'GmailGrant.accessToken')!;
      assert.equal(r.changedMeanwhile, 1);
      assert.equal(r.resealed, grants.length - 1);
      assert.equal(r.remaining, 0);
      const kept = await t.db.prisma.gmailGrant.findUniqueOrThrow({ where: { id: refreshedId! } });
      assert.equal(createSealer(b).open(kept.accessToken, SEALED.grantAccessToken), 'refreshed');
    });

    test('a value written meanwhile with the old key (a process not yet restarted) is re-sealed by the next pass', async () => {
      const [a, b] = [key(), key()];
      await seed(t.db, createSealer(a));
      let once = false;
      let rewritten = '';
      const reports = await rotateSecrets(t.db.raw, createSealer(b, [a]), {
        afterRead: async (field, rows) => {
          if (field !== 'GmailGrant.accessToken' || once) return;
          once = true;
          rewritten = rows[0].key;
          await t.db.prisma.gmailGrant.update({
            where: { id: rewritten },
            data: { accessToken: createSealer(a).seal('old process', SEALED.grantAccessToken) },
          });
        },
      });
      const r = reports.find((x) => x.field === 'GmailGrant.accessToken')!;
      assert.equal(r.changedMeanwhile, 1);
      assert.equal(r.remaining, 0);
      const row = await t.db.prisma.gmailGrant.findUniqueOrThrow({ where: { id: rewritten } });
      assert.equal(createSealer(b).open(row.accessToken, SEALED.grantAccessToken), 'old process');
    });

    test('values no configured key opens are counted and left untouched', async () => {
      const [a, lost, b] = [key(), key(), key()];
      await seed(t.db, createSealer(a));
      const g = (await t.db.prisma.gmailGrant.findFirstOrThrow({ where: { refreshToken: { not: null } } })).id;
      const sealed = createSealer(lost).seal('lost', SEALED.grantRefreshToken);
      await t.db.prisma.gmailGrant.update({ where: { id: g }, data: { refreshToken: sealed } });
      const reports = await rotateSecrets(t.db.raw, createSealer(b, [a]));
      const r = reports.find((x) => x.field === 'GmailGrant.refreshToken')!;
      assert.equal(r.unreadable, 1);
      assert.equal(r.resealed, 10);
      assert.equal(r.remaining, 1);
      assert.equal((await t.db.prisma.gmailGrant.findUniqueOrThrow({ where: { id: g } })).refreshToken, sealed);
    });
  });
}
