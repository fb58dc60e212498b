// One Gmail token refresh per mailbox at a time across processes (issue 11: "one refresh at a time per mailbox, shared
// with Test & Enable"). Each provider below stands for one process: its own in-process mutex and, on PostgreSQL, its
// own connection pool; only the grant's refresh claim in the database can keep them from refreshing together.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postgresDatabase, type Database, type RawSql } from '../../src/db/client.ts';
import { gmailProvider } from '../../src/gmail/provider.ts';
import { createLogger } from '../../src/logger.ts';
import {
  mailboxCredentialFields,
  profileCredentialFields,
  type CredentialProvider,
} from '../../src/mail/credentials.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { dbModes } from '../helpers/db.ts';
import {
  createConnectedMailbox,
  createGmailProfile,
  startGmailWorld,
  type GmailWorld,
} from '../helpers/gmail-world.ts';

for (const mode of dbModes()) {
  describe(`Gmail refresh claim across processes [${mode}]`, () => {
    let w: GmailWorld;
    let ctx: TestContext;
    let second: Database;
    let ownerId: string;
    let profileId: string;

    before(async () => {
      w = await startGmailWorld();
      ctx = await createTestContext(mode, { env: w.googleEnv });
      // The second "process": its own pool on PostgreSQL; PGlite is one process by construction, so the same handle.
      second = ctx.testDb.url ? postgresDatabase(ctx.testDb.url, 2) : ctx.db;
      ownerId = (await ctx.user()).id;
      profileId = (await createGmailProfile(ctx.db.prisma, ctx.sealer, w)).id;
    });
    after(async () => {
      if (second && second !== ctx?.db) await second.close();
      await ctx?.close();
      await w?.close();
    });

    const provider = (db: Database): CredentialProvider =>
      gmailProvider({
        prisma: db.prisma,
        sql: db.raw,
        sealer: ctx.sealer,
        google: ctx.deps.google,
        logger: createLogger('silent'),
      });

    async function expiredMailbox() {
      const mb = await createConnectedMailbox(ctx.db.prisma, ctx.sealer, w, { ownerId, profileId, expired: true });
      const { profile, ...rest } = await ctx.db.prisma.mailbox.findUniqueOrThrow({
        where: { id: mb.id },
        select: { ...mailboxCredentialFields, profile: { select: profileCredentialFields } },
      });
      assert.ok(profile);
      return { ...rest, profile };
    }

    it('two processes needing a new token at once: one refresh, both get the same token', async () => {
      const mailbox = await expiredMailbox();
      const a = provider(ctx.db);
      const b = provider(second);
      w.google.setTokenDelayMs(400); // both are inside credentials() while the first refresh is on its way
      const before = w.google.stats().refreshes;
      try {
        const [ra, rb] = await Promise.all([a.credentials(mailbox), b.credentials(mailbox)]);
        assert.ok(ra.ok && rb.ok, 'both succeed');
        assert.equal(w.google.stats().refreshes, before + 1, 'exactly one refresh reached Google');
        assert.ok(ra.ok && rb.ok && ra.auth.kind === 'xoauth2' && rb.auth.kind === 'xoauth2');
        assert.equal(ra.auth.accessToken, rb.auth.accessToken, 'the waiter uses the token the other one stored');
        assert.equal(w.google.verifyAccessToken(ra.auth.accessToken).ok, true);
      } finally {
        w.google.setTokenDelayMs(0);
      }
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.equal(grant.refreshClaimedUntil, null, 'the claim is released');
      assert.equal(grant.refreshClaimedBy, null);
    });

    it('a refresh is two statements: the read with the claim, and the new token written with the claim released', async () => {
      const mailbox = await expiredMailbox();
      // Counts what the provider asks of the database, through Prisma or the driver: each call below is one statement.
      let statements = 0;
      const sql: RawSql = {
        query: (text, params) => {
          statements++;
          return ctx.db.raw.query(text, params);
        },
        exec: (text) => {
          statements++;
          return ctx.db.raw.exec(text);
        },
      };
      const counted = new Proxy(ctx.db.prisma, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (prop === 'gmailGrant')
            return new Proxy(v as object, {
              get(t, p) {
                const f = Reflect.get(t, p) as (...a: unknown[]) => unknown;
                if (typeof f !== 'function') return f;
                return (...a: unknown[]) => {
                  statements++;
                  return f.apply(t, a);
                };
              },
            });
          if (typeof v === 'function' && typeof prop === 'string' && prop.startsWith('$'))
            return (...a: unknown[]) => {
              statements++;
              return (v as (...x: unknown[]) => unknown).apply(target, a);
            };
          return v;
        },
      });
      const before = w.google.stats().refreshes;
      const r = await gmailProvider({
        prisma: counted,
        sql,
        sealer: ctx.sealer,
        google: ctx.deps.google,
        logger: createLogger('silent'),
      }).credentials(mailbox);
      assert.ok(r.ok, r.ok ? '' : r.failure.message);
      assert.equal(w.google.stats().refreshes, before + 1);
      // Three before decision 044 (the read, then the claim); a separate release of the claim would be one more (034).
      assert.equal(statements, 2, 'the read takes the claim');
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.deepEqual([grant.refreshClaimedUntil, grant.refreshClaimedBy], [null, null]);
      assert.ok(r.ok && r.auth.kind === 'xoauth2');
      assert.equal(
        ctx.sealer.open(grant.accessToken, 'grant.accessToken'),
        r.ok && r.auth.kind === 'xoauth2' ? r.auth.accessToken : '',
      );
      assert.ok(grant.refreshedAt && Math.abs(grant.refreshedAt.getTime() - Date.now()) < 60_000, 'stored as UTC');
      assert.ok(grant.accessTokenExpiresAt.getTime() > Date.now() + 30 * 60_000, 'the new expiry, as UTC');
    });

    it('the read takes no claim when none is needed, and a refused token is refreshed through a claim of its own', async () => {
      const mailbox = await expiredMailbox();
      const p = provider(ctx.db);
      const first = await p.credentials(mailbox); // refreshed: now valid for an hour
      assert.ok(first.ok && first.auth.kind === 'xoauth2');
      const before = w.google.stats().refreshes;
      const cached = await p.credentials(mailbox);
      assert.ok(cached.ok && cached.cached, 'the stored token is used');
      assert.equal(w.google.stats().refreshes, before);
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.deepEqual([grant.refreshClaimedUntil, grant.refreshClaimedBy], [null, null], 'no claim taken or left');
      // A mail server refused it: the read cannot tell (it cannot open the token), so the claim is taken on its own.
      const refused = first.ok && first.auth.kind === 'xoauth2' ? first.auth.accessToken : '';
      const again = await p.credentials(mailbox, { forceRefresh: true, refusedAccessToken: refused });
      assert.ok(again.ok && again.auth.kind === 'xoauth2');
      assert.notEqual(again.ok && again.auth.kind === 'xoauth2' && again.auth.accessToken, refused);
      assert.equal(w.google.stats().refreshes, before + 1);
      // Refused again with the old token: someone already replaced it, so the stored one is used without a refresh.
      const replaced = await p.credentials(mailbox, { forceRefresh: true, refusedAccessToken: refused });
      assert.ok(replaced.ok && replaced.auth.kind === 'xoauth2' && again.ok && again.auth.kind === 'xoauth2');
      assert.equal(replaced.auth.accessToken, again.auth.accessToken);
      assert.equal(w.google.stats().refreshes, before + 1);
      // Forced without naming a token: the read takes the claim.
      const forced = await p.credentials(mailbox, { forceRefresh: true });
      assert.ok(forced.ok);
      assert.equal(w.google.stats().refreshes, before + 2);
      const end = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.deepEqual([end.refreshClaimedUntil, end.refreshClaimedBy], [null, null]);
      assert.ok(end.accessTokenExpiresAt.getTime() > Date.now() + 30 * 60_000, 'expiry read and written as UTC');
    });

    it('a claim that ran out and was taken over is not released by the late holder’s token write', async () => {
      const mailbox = await expiredMailbox();
      // The holder's claim runs out while Google answers slowly; another process takes the claim over meanwhile.
      w.google.setTokenDelayMs(300);
      try {
        const pending = provider(ctx.db).credentials(mailbox);
        await new Promise((r) => setTimeout(r, 150));
        await ctx.db.raw.query(
          `UPDATE "GmailGrant" SET "refreshClaimedUntil" = now() + interval '20 seconds', "refreshClaimedBy" = 'other'
           WHERE "mailboxId" = $1`,
          [mailbox.id],
        );
        const r = await pending;
        assert.ok(r.ok, r.ok ? '' : r.failure.message);
      } finally {
        w.google.setTokenDelayMs(0);
      }
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.equal(grant.refreshClaimedBy, 'other', 'the other process keeps its claim');
      assert.ok(grant.refreshedAt, 'the token was stored');
    });

    it('a claim left by a process that died mid-refresh is waited out, then taken over', async () => {
      const mailbox = await expiredMailbox();
      await ctx.db.raw.query(
        `UPDATE "GmailGrant" SET "refreshClaimedUntil" = now() + interval '1500 milliseconds', "refreshClaimedBy" = 'dead'
         WHERE "mailboxId" = $1`,
        [mailbox.id],
      );
      const before = w.google.stats().refreshes;
      const r = await provider(second).credentials(mailbox);
      assert.ok(r.ok, r.ok ? '' : r.failure.message);
      assert.equal(w.google.stats().refreshes, before + 1);
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.equal(grant.refreshClaimedBy, null, 'the dead holder is gone and ours is released');
      assert.ok(grant.refreshedAt, 'the refreshed token was stored');
    });

    it('a failed refresh releases the claim: the next caller refreshes at once', async () => {
      const mailbox = await expiredMailbox();
      w.google.failTokenEndpoint(1, 503);
      const first = await provider(ctx.db).credentials(mailbox);
      assert.equal(first.ok, false);
      assert.equal(!first.ok && first.failure.code, 'TOKEN_ENDPOINT');
      const grant = await ctx.db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: mailbox.id } });
      assert.equal(grant.refreshClaimedUntil, null, 'no claim is left behind by a failure');
      const again = await provider(second).credentials(mailbox);
      assert.ok(again.ok, again.ok ? '' : again.failure.message);
    });
  });
}
