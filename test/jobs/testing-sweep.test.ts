// A Google app in Testing status: the profile says so (form), and a day before a mailbox's Gmail sign-in ends the
// hourly worker job alerts, once per refresh token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { TESTING_ALERT, TESTING_SWEEP_QUEUE, warnExpiringSignIns } from '../../src/gmail/testing-sweep.ts';
import { waitFor } from '../helpers/wait.ts';

const DAY = 86_400_000;
const rand = () => randomBytes(4).toString('hex');

async function profile(ctx: TestContext, testing: boolean) {
  return ctx.db.prisma.emailServerProfile.create({
    data: {
      name: `Gmail ${rand()}`,
      incomingServer: 'imap.gmail.com',
      incomingPort: 993,
      outgoingServer: 'smtp.gmail.com',
      outgoingPort: 587,
      authenticateUsing: 'GMAIL_OAUTH',
      oauthClientId: `${rand()}.apps.googleusercontent.com`,
      oauthClientSecret: ctx.sealer.seal('GOCSPX-x', 'profile.oauthClientSecret'),
      googleAppInTesting: testing,
    },
  });
}

async function mailbox(ctx: TestContext, profileId: string, issuedDaysAgo: number, o: { refused?: boolean } = {}) {
  const owner = await ctx.user();
  const email = `t-${rand()}@gmail.test`;
  return ctx.db.prisma.mailbox.create({
    data: {
      name: email,
      emailAddress: email,
      ownerId: owner.id,
      profileId,
      grant: {
        create: {
          googleEmail: email,
          grantedScopes: 'https://mail.google.com/',
          accessToken: ctx.sealer.seal('a', 'grant.accessToken'),
          refreshToken: ctx.sealer.seal('r', 'grant.refreshToken'),
          accessTokenExpiresAt: new Date(),
          refreshTokenIssuedAt: new Date(Date.now() - issuedDaysAgo * DAY),
          signInRequiredAt: o.refused ? new Date() : null,
        },
      },
    },
  });
}

const alertsOf = (ctx: TestContext, mailboxId: string) =>
  ctx.db.prisma.alert.findMany({ where: { mailboxId, code: TESTING_ALERT } });

describeEachDb(
  'Testing-status sign-ins',
  (ctx) => {
    test('a day before the 7 days end (or after), one WARNING alert per refresh token; published apps never', async () => {
      const testing = await profile(ctx(), true);
      const published = await profile(ctx(), false);
      const lastDay = await mailbox(ctx(), testing.id, 6.5);
      const ended = await mailbox(ctx(), testing.id, 8);
      const early = await mailbox(ctx(), testing.id, 3);
      const refused = await mailbox(ctx(), testing.id, 6.5, { refused: true });
      const live = await mailbox(ctx(), published.id, 6.5);

      assert.equal(await warnExpiringSignIns(ctx().db.prisma), 2);
      const [a] = await alertsOf(ctx(), lastDay.id);
      assert.equal(a.level, 'WARNING');
      assert.match(
        a.message,
        /ends at .* \(in 1\d h\): the Google app of the email server profile “Gmail \w+” is in Testing status/,
      );
      assert.match(a.hint ?? '', /Sign in to Gmail again before then: a new sign-in gets 7 more days/);
      assert.match((await alertsOf(ctx(), ended.id))[0].message, / ended at /);
      for (const m of [early, refused, live]) assert.equal((await alertsOf(ctx(), m.id)).length, 0);

      // Once per refresh token: running again writes nothing; a new token (a new sign-in) earns a new alert later.
      assert.equal(await warnExpiringSignIns(ctx().db.prisma), 0);
      await ctx().db.prisma.gmailGrant.update({
        where: { mailboxId: lastDay.id },
        data: { refreshTokenIssuedAt: new Date() },
      });
      assert.equal(await warnExpiringSignIns(ctx().db.prisma), 0);
      // 6.5 days on: the new token's last day, and the early one's end.
      assert.equal(await warnExpiringSignIns(ctx().db.prisma, new Date(Date.now() + 6.5 * DAY)), 2);
      assert.equal((await alertsOf(ctx(), lastDay.id)).length, 2);
    });

    test('the worker runs the sweep from its queue', async () => {
      const testing = await profile(ctx(), true);
      const m = await mailbox(ctx(), testing.id, 6.9);
      await ctx().jobs!.boss.send(TESTING_SWEEP_QUEUE, {});
      await waitFor('the worker’s alert', async () => ((await alertsOf(ctx(), m.id)).length ? true : undefined));
    });

    test('the profile form has the Testing status box for Gmail OAuth profiles only', async () => {
      const { client } = await ctx().signedIn('ADMIN');
      const form = await client.get('/profiles/new?preset=gmail-imap');
      assert.match(form.text, /<label for="f-googleAppInTesting">The Google app is in Testing status<\/label>/);
      assert.match(form.text, /Google then ends every Gmail sign-in 7 days after it was given/);
      const body = {
        name: `Testing ${rand()}`,
        description: '',
        serverType: 'IMAP',
        incomingServer: 'imap.gmail.com',
        incomingPort: '993',
        incomingUseSsl: 'on',
        outgoingServer: 'smtp.gmail.com',
        outgoingPort: '587',
        outgoingSecurity: 'STARTTLS',
        authenticateUsing: 'GMAIL_OAUTH',
        oauthClientId: `${rand()}.apps.googleusercontent.com`,
        oauthClientSecret: 'GOCSPX-secret',
        maxConcurrentConnections: '10',
        minPollingIntervalMinutes: '0',
        processEmailFrom: '',
        googleAppInTesting: 'on',
      };
      const saved = await client.post('/profiles', body);
      assert.equal(saved.status, 303, saved.text.slice(0, 300));
      const p = await ctx().db.prisma.emailServerProfile.findFirstOrThrow({ where: { name: body.name } });
      assert.equal(p.googleAppInTesting, true);
      assert.match(
        (await client.get(`/profiles/${p.id}`)).text,
        /Yes: Gmail sign-ins end 7 days after they were given/,
      );
      const wrong = await client.post('/profiles', {
        ...body,
        name: `Creds ${rand()}`,
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        oauthClientId: '',
        oauthClientSecret: '',
      });
      assert.equal(wrong.status, 422);
      assert.match(wrong.text, /Only a Gmail OAuth profile has a Google app/);
    });
  },
  { jobs: true },
);
