// The profile list (search, sort, paging, "N of 100"), the Gmail presets, and the Redirect URI panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';

const REDIRECT_PATH = '/_grid/cmds/dlg_gmailoauth.aspx';

/** The order in which the given names first appear in a page. */
function orderOf(text: string, names: string[]): string[] {
  return names
    .map((n) => [n, text.indexOf(`>${n}</a>`)] as const)
    .filter(([, i]) => i >= 0)
    .sort((a, b) => a[1] - b[1])
    .map(([n]) => n);
}

async function create(client: TestClient, over: Record<string, string>): Promise<string> {
  await client.get('/profiles/new');
  const res = await client.post('/profiles', sampleProfileForm(over));
  assert.equal(res.status, 303);
  return res.location!.split('/').pop()!;
}

const selected = (text: string, name: string) =>
  new RegExp(`name="${name}"[^>]*>[\\s\\S]*?<option value="([^"]+)" selected`).exec(text)?.[1];
const inputValue = (text: string, name: string) =>
  new RegExp(`name="${name}" type="[a-z]+" value="([^"]*)"`).exec(text)?.[1];

describeEachDb('email server profile list', (ctx) => {
  test('search by name, sort by each column both ways, mailbox counts as "N of 100" for Gmail OAuth', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const alpha = await create(client, {
      name: 'Sort Alpha',
      serverType: 'POP3',
      incomingServer: 'pop.example.com',
      incomingPort: '995',
      authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
      oauthClientId: '',
      oauthClientSecret: '',
    });
    await create(client, { name: 'Sort Bravo' });
    const charlie = await create(client, { name: 'Sort Charlie' });
    await create(client, { name: 'Unrelated' });
    const owner = await ctx().user();
    for (const i of [1, 2])
      await prisma.mailbox.create({
        data: { name: `S${i}`, emailAddress: `sort${i}@example.com`, ownerId: owner.id, profileId: charlie },
      });
    await prisma.mailbox.create({
      data: { name: 'S3', emailAddress: 'sort3@example.com', ownerId: owner.id, profileId: alpha },
    });
    await client.get(`/profiles/${alpha}/edit`);
    await client.post(
      `/profiles/${alpha}`,
      sampleProfileForm({
        name: 'Sort Alpha',
        serverType: 'POP3',
        incomingServer: 'pop.example.com',
        incomingPort: '995',
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        oauthClientId: '',
        oauthClientSecret: '',
        description: 'newest',
      }),
    );

    const names = ['Sort Alpha', 'Sort Bravo', 'Sort Charlie', 'Unrelated'];
    const page = async (qs: string) => (await client.get(`/profiles?q=sort&${qs}`)).text;
    const def = await page('');
    assert.deepEqual(
      orderOf(def, names),
      ['Sort Alpha', 'Sort Bravo', 'Sort Charlie'],
      'search is case-insensitive and leaves out other names',
    );
    assert.deepEqual(orderOf(await page('sort=name&dir=desc'), names), ['Sort Charlie', 'Sort Bravo', 'Sort Alpha']);
    assert.deepEqual(orderOf(await page('sort=serverType&dir=desc'), names)[0], 'Sort Alpha');
    assert.deepEqual(orderOf(await page('sort=serverType&dir=asc'), names)[2], 'Sort Alpha');
    assert.deepEqual(orderOf(await page('sort=authenticateUsing&dir=asc'), names), [
      'Sort Bravo',
      'Sort Charlie',
      'Sort Alpha',
    ]);
    assert.deepEqual(orderOf(await page('sort=mailboxes&dir=desc'), names), [
      'Sort Charlie',
      'Sort Alpha',
      'Sort Bravo',
    ]);
    assert.deepEqual(orderOf(await page('sort=mailboxes&dir=asc'), names), [
      'Sort Bravo',
      'Sort Alpha',
      'Sort Charlie',
    ]);
    assert.equal(orderOf(await page('sort=modifiedOn&dir=desc'), names)[0], 'Sort Alpha');
    assert.deepEqual(
      orderOf(await page('sort=bogus&dir=sideways'), names),
      ['Sort Alpha', 'Sort Bravo', 'Sort Charlie'],
      'unknown sort falls back to name',
    );

    assert.match(def, /<th scope="col" aria-sort="ascending"><a href="\?q=sort&amp;sort=name&amp;dir=desc">Name<\/a>/);
    assert.match(def, /<a href="\?q=sort&amp;sort=mailboxes&amp;dir=desc">Mailboxes<\/a>/);
    assert.doesNotMatch(
      def,
      /<input type="hidden" name="sort"/,
      'the default order needs no hidden fields in the search form',
    );
    const byCount = await page('sort=mailboxes&dir=asc');
    assert.match(
      byCount,
      /<input type="hidden" name="sort" value="mailboxes"><input type="hidden" name="dir" value="asc">/,
      'the search keeps the sort',
    );
    const rowOf = (name: string) => new RegExp(`>${name}</a>[\\s\\S]*?<td class="usage">([^<]*)</td>`).exec(def)?.[1];
    assert.equal(rowOf('Sort Charlie'), '2 of 100');
    assert.equal(rowOf('Sort Bravo'), '0 of 100');
    assert.equal(rowOf('Sort Alpha'), '1');
    assert.match(def, /Credentials Specified by a User or Queue/);
    assert.match(def, /POP3\/SMTP Server/);
    assert.match((await client.get('/profiles?q=zzz-none')).text, /No profiles match/);
  });

  test('the search takes % and _ literally', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const auth = { authenticateUsing: 'CREDENTIALS_PER_MAILBOX', oauthClientId: '', oauthClientSecret: '' };
    await create(client, { name: 'Promo 100% off', ...auth });
    await create(client, { name: 'Promo 1000 off', ...auth });
    await create(client, { name: 'Promo a_b', ...auth });
    await create(client, { name: 'Promo axb', ...auth });
    const names = ['Promo 100% off', 'Promo 1000 off', 'Promo a_b', 'Promo axb'];
    assert.deepEqual(orderOf((await client.get('/profiles?q=100%25')).text, names), ['Promo 100% off']);
    assert.deepEqual(orderOf((await client.get('/profiles?q=a_b')).text, names), ['Promo a_b']);
    assert.equal(orderOf((await client.get('/profiles?q=promo')).text, names).length, 4);
  });

  test('mailbox counts follow creates, moves and deletes, the same in the default sort and the sort by count', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const one = await create(client, { name: 'Count One', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' });
    const two = await create(client, { name: 'Count Two', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' });
    await create(client, { name: 'Count Zero', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' });
    const owner = await ctx().user();
    const mailbox = (i: number, profileId: string) =>
      prisma.mailbox.create({
        data: { name: `C${i}`, emailAddress: `count${i}@example.com`, ownerId: owner.id, profileId },
      });
    const a = await mailbox(1, one);
    await mailbox(2, two);
    await mailbox(3, two);
    // A mailbox of a profile not on the page, and one without a profile, count for none of these rows.
    const elsewhere = await create(client, { name: 'Elsewhere', authenticateUsing: 'CREDENTIALS_PER_MAILBOX' });
    await mailbox(4, elsewhere);
    await prisma.mailbox.create({ data: { name: 'C5', emailAddress: 'count5@example.com', ownerId: owner.id } });
    const counts = async (qs: string) => {
      const text = (await client.get(`/profiles?q=count&${qs}`)).text;
      const of = (name: string) =>
        new RegExp(`>${name}</a>[\\s\\S]*?<td class="usage">([^<]*)</td>`).exec(text)?.[1] ?? 'missing';
      return { one: of('Count One'), two: of('Count Two'), zero: of('Count Zero') };
    };
    const expect = async (want: Record<string, string>, why: string) => {
      assert.deepEqual(await counts(''), want, `${why} (sorted by name)`);
      assert.deepEqual(await counts('sort=mailboxes&dir=desc'), want, `${why} (sorted by count)`);
    };
    await expect({ one: '1', two: '2', zero: '0' }, 'after creating');
    await prisma.mailbox.update({ where: { id: a.id }, data: { profileId: two } });
    await expect({ one: '0', two: '3', zero: '0' }, 'after moving one');
    await prisma.mailbox.deleteMany({ where: { profileId: two, name: { in: ['C2', 'C3'] } } });
    await expect({ one: '0', two: '1', zero: '0' }, 'after deleting two');
  });

  test('50 profiles per page; the pager keeps the search and sort', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    await ctx().db.prisma.emailServerProfile.createMany({
      data: Array.from({ length: 55 }, (_, i) => ({
        name: `Paged ${String(i).padStart(2, '0')}`,
        incomingServer: 'imap.example.com',
        incomingPort: 993,
        outgoingServer: 'smtp.example.com',
        outgoingPort: 587,
        ownerId: user.id,
      })),
    });
    const p1 = await client.get('/profiles?q=paged&sort=name&dir=desc');
    assert.match(p1.text, /Page 1 of 2/);
    assert.equal(p1.text.match(/>Paged \d\d<\/a>/g)?.length, 50);
    assert.match(p1.text, />Paged 54<\/a>/);
    assert.match(p1.text, /href="\?q=paged&amp;sort=name&amp;dir=desc&amp;page=2" rel="next"/);
    const p2 = await client.get('/profiles?q=paged&sort=name&dir=desc&page=2');
    assert.equal(p2.text.match(/>Paged \d\d<\/a>/g)?.length, 5);
    assert.match(p2.text, />Paged 00<\/a>/);
    assert.match(p2.text, /Page 2 of 2/);
  });

  test('Gmail presets pre-fill the new form without JavaScript', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const list = await client.get('/profiles');
    assert.match(list.text, /href="\/profiles\/new\?preset=gmail-imap">Start from Gmail \(IMAP\)</);
    assert.match(list.text, /href="\/profiles\/new\?preset=gmail-pop3">Start from Gmail \(POP3\)</);
    const imap = (await client.get('/profiles/new?preset=gmail-imap')).text;
    assert.equal(selected(imap, 'serverType'), 'IMAP');
    assert.equal(inputValue(imap, 'incomingServer'), 'imap.gmail.com');
    assert.equal(inputValue(imap, 'incomingPort'), '993');
    assert.match(imap, /name="incomingUseSsl" value="on" checked/);
    assert.equal(inputValue(imap, 'outgoingServer'), 'smtp.gmail.com');
    assert.equal(inputValue(imap, 'outgoingPort'), '587');
    assert.equal(selected(imap, 'outgoingSecurity'), 'STARTTLS');
    assert.equal(selected(imap, 'authenticateUsing'), 'GMAIL_OAUTH');
    // 100 mailboxes per Gmail OAuth profile, each holding one IDLE connection (decision 022).
    assert.equal(inputValue(imap, 'maxConcurrentConnections'), '100');
    assert.match(imap, /href="\?preset=gmail-imap&amp;smtp=465"/);
    const pop = (await client.get('/profiles/new?preset=gmail-pop3&smtp=465')).text;
    assert.equal(selected(pop, 'serverType'), 'POP3');
    assert.equal(inputValue(pop, 'incomingServer'), 'pop.gmail.com');
    assert.equal(inputValue(pop, 'incomingPort'), '995');
    assert.equal(inputValue(pop, 'outgoingPort'), '465');
    assert.equal(selected(pop, 'outgoingSecurity'), 'SSL');
    assert.equal(inputValue(pop, 'maxConcurrentConnections'), '100');
    const plain = (await client.get('/profiles/new?preset=bogus')).text;
    assert.equal(inputValue(plain, 'incomingServer'), '');
    const id = await create(client, {
      name: 'Preset on edit',
      serverType: 'POP3',
      incomingServer: 'mail.example.com',
      incomingPort: '110',
      incomingUseSsl: '',
    });
    const edit = (await client.get(`/profiles/${id}/edit?preset=gmail-imap`)).text;
    assert.equal(inputValue(edit, 'name'), 'Preset on edit');
    assert.equal(inputValue(edit, 'incomingServer'), 'imap.gmail.com');
    assert.equal(selected(edit, 'serverType'), 'IMAP');
  });

  test('the Redirect URI panel shows the PUBLIC_URL-based URI and origin with copy buttons, only on Gmail OAuth profiles', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const gmail = await create(client, { name: 'Panel Gmail' });
    const creds = await create(client, {
      name: 'Panel creds',
      authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
      oauthClientId: '',
      oauthClientSecret: '',
    });
    const uri = ctx().url + REDIRECT_PATH;
    for (const path of [`/profiles/${gmail}`, `/profiles/${gmail}/edit`]) {
      const text = (await client.get(path)).text;
      assert.ok(
        text.includes(
          `<code id="redirect-uri">${uri}</code><button type="button" data-copy="#redirect-uri">Copy</button>`,
        ),
        path,
      );
      assert.ok(
        text.includes(
          `<code id="js-origin">${ctx().url}</code><button type="button" data-copy="#js-origin">Copy</button>`,
        ),
        path,
      );
      assert.match(text, /refresh tokens that expire after 7 days, and at most 100 test users/);
      assert.doesNotMatch(text, /data-warning=/, "no warning when the request host is PUBLIC_URL's");
    }
    const proxied = (await client.get(`/profiles/${gmail}`, { 'x-forwarded-host': 'crm.example.com' })).text;
    assert.match(
      proxied,
      /data-warning="host-mismatch"><strong>Warning:<\/strong> You opened this page at crm\.example\.com, but PUBLIC_URL is 127\.0\.0\.1:\d+/,
    );
    assert.match(proxied, /redirect_uri_mismatch/);
    assert.ok(proxied.includes(`<code id="redirect-uri">${uri}</code>`));
    for (const path of [`/profiles/${creds}`, `/profiles/${creds}/edit`])
      assert.doesNotMatch((await client.get(path)).text, /id="redirect-uri"/, path);
  });

  test('no request failed on the server (no error logs)', () => {
    assert.deepEqual(
      ctx().logs.filter((l) => l.includes('"level":50')),
      [],
    );
  });
});

describeEachDb(
  'email server profile redirect URI behind a proxy',
  (ctx) => {
    test('with PUBLIC_URL https://crm.example.com the panel uses it even when the request Host differs, with a warning', async () => {
      const admin = await ctx().user({ role: 'ADMIN' });
      const client = ctx().client({ 'x-forwarded-proto': 'https' }); // the session cookie is Secure with an https PUBLIC_URL
      await client.login(admin.email, admin.password);
      const id = await create(client, { name: 'Proxied' });
      const direct = (await client.get(`/profiles/${id}`)).text;
      assert.ok(
        direct.includes('<code id="redirect-uri">https://crm.example.com/_grid/cmds/dlg_gmailoauth.aspx</code>'),
      );
      assert.ok(direct.includes('<code id="js-origin">https://crm.example.com</code>'));
      assert.match(
        direct,
        /data-warning="host-mismatch"><strong>Warning:<\/strong> You opened this page at 127\.0\.0\.1:\d+, but PUBLIC_URL is crm\.example\.com/,
      );
      assert.doesNotMatch(direct, /data-warning="http-public-url"/);
      const viaProxy = (await client.get(`/profiles/${id}/edit`, { 'x-forwarded-host': 'crm.example.com' })).text;
      assert.ok(
        viaProxy.includes('<code id="redirect-uri">https://crm.example.com/_grid/cmds/dlg_gmailoauth.aspx</code>'),
      );
      assert.doesNotMatch(viaProxy, /data-warning=/);
    });
  },
  { env: { PUBLIC_URL: 'https://crm.example.com' } },
);
