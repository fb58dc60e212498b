// Diagnostic: CPU of rendering the mailbox list template alone (views/mailboxes/list.ejs with its partials), 50 rows
// shaped like the pages seed's, under EJS options given as JSON (A/B of template options), in one process, alternating.
// Usage: tsx bench/diag/list-render.ts <renders> <rounds> '<json options A>' '<json options B>' …
import ejs from 'ejs';
import { resolve } from 'node:path';
import { ROOT } from '../../src/paths.ts';
import { labels } from '../../src/mailboxes/labels.ts';
import { syncBadge } from '../../src/emails/sync-state.ts';
import { isPending, statusVersion } from '../../src/mailboxes/status.ts';
import { gmailBadge, mailboxList } from '../../src/mailboxes/list.ts';
import { listView, searchForm } from '../../src/web/list-view.ts';

const [renders = '2000', rounds = '3', ...variants] = process.argv.slice(2);
const day = 86_400_000;
// Fixed times (and today among them, see whenExact), so two builds' outputs can be compared byte for byte.
const BASE = Math.floor(Date.now() / day) * day + 3_600_000;
const rows = Array.from({ length: 50 }, (_, i) => ({
  id: `0000000${i}-1111-2222-3333-444444444444`.slice(-36),
  name: `Mailbox mb${i} & co`,
  emailAddress: `mb${i}@example.com`,
  incomingStatus: i % 3 ? 'SUCCESS' : 'NOT_RUN',
  outgoingStatus: i % 4 ? 'FAILURE' : 'SUCCESS',
  emailApproval: i % 2 ? 'APPROVED' : 'PENDING',
  enabledForIncoming: i % 2 === 0,
  enabledForOutgoing: i % 3 === 0,
  lastTestCompletedAt: new Date(BASE - (i % 5) * day),
  retryCount: 0,
  nextRetryAt: null,
  profile: { id: `profile-${i % 50}`, name: `Profile ${i % 50}`, googleAppInTesting: i % 2 === 0 },
  sync: i % 3 === 0 ? { state: 'POLLING', stoppedReason: null } : null,
  grant:
    i % 4 === 0
      ? {
          googleEmail: `g${i}@gmail.com`,
          needsReconsent: false,
          signInRequiredAt: null,
          refreshTokenIssuedAt: new Date(BASE - i * day),
        }
      : null,
}));
const l = mailboxList.parse({});
const page = { query: l, rows, total: 5001, exact: false, from: 1, to: 50, hasNext: true, pages: null, cursors: null };
const locals = {
  title: 'Mailboxes',
  labels,
  syncBadge,
  live: { isPending, statusVersion },
  gmailBadge,
  profile: null,
  connect: 'another',
  ...listView(
    mailboxList,
    page as never,
    [{ label: 'Select', srOnly: true }, ...Object.keys(mailboxList.spec.sorts)] as never,
  ),
  search: searchForm(mailboxList, l, { label: 'Search mailboxes', placeholder: 'Name or email address' }),
  bulk: { admin: true, filter: [], several: true },
  user: { id: 'u', role: 'ADMIN', name: 'Admin', email: 'a@example.com' },
  path: '/mailboxes',
  publicUrl: 'http://127.0.0.1',
  csrfToken: () => 'token',
  takeFlash: () => [],
  recentErrors: null,
};
const views = resolve(ROOT, 'views');
const file = resolve(views, 'mailboxes/list.ejs');
const opts = (o: object) => ({ root: views, compileDebug: false, cache: true, ...o });
// EJS caches compiled templates by file name: one cache per variant, so each variant runs its own compilation.
const caches = new Map<string, Map<string, unknown>>();
const cacheOf = (key: string) => {
  const m = caches.get(key) ?? new Map<string, unknown>();
  caches.set(key, m);
  return {
    set: (k: string, v: unknown) => m.set(k, v),
    get: (k: string) => m.get(k),
    remove: (k: string) => m.delete(k),
    reset: () => m.clear(),
  };
};
const render = (o: object) => {
  (ejs as unknown as { cache: unknown }).cache = cacheOf(JSON.stringify(o));
  return new Promise<string>((ok, ko) => ejs.renderFile(file, locals, opts(o), (e, s) => (e ? ko(e) : ok(s))));
};
const outputs: string[] = [];
for (const v of variants) outputs.push(await render(JSON.parse(v)));
// OUT=<file>: the first variant's output, to compare builds (templates before and after a change) byte for byte.
if (process.env.OUT) (await import('node:fs')).writeFileSync(process.env.OUT, outputs[0]);
for (const [i, o] of outputs.entries())
  console.log(`variant ${i}: ${o.length} chars${o === outputs[0] ? '' : ' — DIFFERENT OUTPUT from variant 0'}`);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < Number(rounds); r++)
  for (const [i, v] of variants.entries()) {
    const o = JSON.parse(v);
    for (let k = 0; k < 200; k++) await render(o);
    const c0 = cpu();
    for (let k = 0; k < Number(renders); k++) await render(o);
    console.log(`round ${r} variant ${i} ${v}: ${((cpu() - c0) / Number(renders)).toFixed(3)} ms per render`);
  }
