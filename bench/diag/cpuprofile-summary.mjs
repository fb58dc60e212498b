// Diagnostic: a summary of a V8 .cpuprofile (page-profile.ts writes them): self time by package and by function, inclusive
// time of some functions (INCL), what reaches a package (PKG) by the nearest app frame, and the callers of some leaf
// functions (FNS, DEPTH). LAST_MS: only the profile's last milliseconds (the load window, not the start).
// Usage: [LAST_MS=14000] node bench/diag/cpuprofile-summary.mjs <file.cpuprofile> [top functions]
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 40);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const counts = new Map();
// LAST_MS: only the samples of the profile's last LAST_MS milliseconds (the load window, not the start)
let t = p.startTime;
const from = p.endTime - Number(process.env.LAST_MS ?? 1e12) * 1000;
p.samples.forEach((s, i) => {
  t += p.timeDeltas[i];
  if (t >= from) counts.set(s, (counts.get(s) ?? 0) + 1);
});
let total = 0,
  idle = 0;
for (const [id, c] of counts) {
  total += c;
  if (byId.get(id).callFrame.functionName === '(idle)') idle += c;
}
const busy = total - idle;
const bucket = (cf) => {
  const u = cf.url;
  if (!u) return cf.functionName.startsWith('(') ? cf.functionName : '(no url: eval/ejs?)';
  const m = u.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  if (u.includes('/dist/src/')) return `app:${u.split('/dist/src/')[1]}`;
  return u;
};
const self = new Map(),
  pkg = new Map();
for (const [id, c] of counts) {
  const cf = byId.get(id).callFrame;
  if (cf.functionName === '(idle)') continue;
  const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + c);
  const b = bucket(cf);
  pkg.set(b, (pkg.get(b) ?? 0) + c);
}
const pct = (c) => `${((100 * c) / busy).toFixed(1).padStart(5)} %`;
console.log(
  `samples ${total}, busy ${busy} (${((busy * Math.min(p.endTime - p.startTime, Number(process.env.LAST_MS ?? 1e12) * 1000)) / total / 1000).toFixed(0)} ms)`,
);
console.log('--- self by package');
for (const [k, c] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(pct(c), k);
console.log('--- self by function');
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(c), k);
// inclusive: a sample counts for a name once if the name is on its stack
const names = (
  process.env.INCL ??
  'render,renderFile,tryHandleCache,session,csrfProtection,generateCsrfToken,helmetMiddleware,query,listMailboxes,mailboxListPage,serializeUser,deserializeUser,writeHead,end,json,urlencodedParser,cookieParser,anonymous'
).split(',');
const incl = new Map();
for (const [id, c] of counts) {
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const f = byId.get(x).callFrame.functionName;
    if (names.includes(f)) seen.add(f);
  }
  for (const f of seen) incl.set(f, (incl.get(f) ?? 0) + c);
}
console.log('--- inclusive');
for (const [k, c] of [...incl].sort((a, b) => b[1] - a[1])) console.log(pct(c), k);
// For samples with a frame of package PKG (env, default @prisma/client) on the stack: the nearest app frame below it
const want = process.env.PKG ?? '@prisma/client';
const via = new Map();
for (const [id, c] of counts) {
  const stack = [];
  for (let x = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame);
  const i = stack.findIndex((cf) => bucket(cf) === want);
  if (i < 0) continue;
  const app = stack.slice(i).find((cf) => bucket(cf).startsWith('app:'));
  const root = stack
    .slice(i)
    .filter((cf) => cf.url)
    .at(-1);
  const k = app
    ? `${app.functionName} ${bucket(app)}:${app.lineNumber}`
    : `(no app frame; root ${root?.functionName} ${root?.url.split('/').slice(-2).join('/')})`;
  via.set(k, (via.get(k) ?? 0) + c);
}
console.log(`--- samples with ${want} on the stack, by nearest app frame`);
for (const [k, c] of [...via].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(pct(c), k);
for (const fn of (process.env.FNS ?? 'writev,writeBuffer,(anon)').split(',')) {
  const by = new Map();
  for (const [id, c] of counts) {
    const cf0 = byId.get(id).callFrame;
    if ((cf0.functionName || '(anon)') !== fn) continue;
    const stack = [];
    for (let x = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame);
    const k = stack
      .slice(1)
      .filter((cf) => cf.url && !cf.url.startsWith('node:'))
      .slice(0, Number(process.env.DEPTH ?? 3))
      .map((cf) => `${cf.functionName}@${bucket(cf)}`)
      .join(' < ');
    by.set(k, (by.get(k) ?? 0) + c);
  }
  console.log(`--- leaf ${fn}: callers`);
  for (const [k, c] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(pct(c), k);
}
