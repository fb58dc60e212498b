// Renders bench/results/*.json as bench/README.md's tables (between the results markers): issue 15's goals first, each
// with its measured value, ✔/✘, engine, date and the machine's load, then each part's figures. run.ts calls it after
// each part; `npx tsx bench/report.ts` re-renders from the files alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, RESULTS_DIR } from './util.ts';

type J = Record<string, any>; // result files are our own JSON
const read = (name: string): J | undefined => {
  const f = join(RESULTS_DIR, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
};
const ENGINES = [
  ['pglite', 'PGlite'],
  ['postgres', 'PostgreSQL'],
] as const;
const round1 = (x: number) => Math.round(x * 10) / 10;
const mark = (pass: boolean) => (pass ? '✔' : '✘');
const s = (ms: number | undefined | null) => (ms === undefined || ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
/** A figure with its unit, or — when the result file has no such field (an older bench wrote it). */
const v = (x: unknown, unit = ' ms') => (x === undefined || x === null ? '—' : `${x}${unit}`);
const when = (r: J) =>
  `${r.machine.date.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, load average ${r.machine.loadavg.join(' / ')}${r.quick ? '; `--quick` sizes' : ''}`;

/** Whether any measurement of a part (or one engine of it) started on a busy machine (util.ts waitForQuiet). */
function busyIn(x: unknown): boolean {
  if (!x || typeof x !== 'object') return false;
  if ((x as J).flagged === true) return true;
  return Object.values(x as J).some(busyIn);
}
const busyNote = (x: J) => (busyIn(x) ? ' **BUSY**' : '');

export interface Goal {
  goal: string;
  engine: string;
  value: string;
  target: string;
  pass: boolean;
  busy: boolean;
  date: string;
}

/** The result files the goals are read from (bench/results/<name>.json), each possibly missing. */
export interface Results {
  scale?: J;
  pages?: J;
  start?: J;
  'busy-pages'?: J;
}

export function readResults(): Results {
  return { scale: read('scale'), pages: read('pages'), start: read('start'), 'busy-pages': read('busy-pages') };
}

/** A goal the results do not measure (yet): a row that says so, never a missing row. */
const unmeasured = (goal: string, engine: string, target: string, why: string): Goal => ({
  goal,
  engine,
  value: `not measured: ${why}`,
  target,
  pass: false,
  busy: false,
  date: '—',
});

/** Issue 15's goals, each engine, from the results (read from bench/results/ by default). Pure over its argument. */
export function goals(results: Results = readResults()): Goal[] {
  const out: Goal[] = [];
  // Files written by the bench before issue 15 lack these figures: their goals say "not measured" until the part runs.
  const scaleFile = results.scale;
  const scale =
    scaleFile?.pglite?.pickupMsMedian !== undefined || scaleFile?.postgres?.pickupMsMedian !== undefined
      ? scaleFile
      : undefined;
  const scaleWhy = scaleFile
    ? 'scale.json is from an older bench (no pick-up times): run `npm run bench -- --only=scale`'
    : 'run `npm run bench -- --only=scale`';
  const pages =
    results.pages?.options?.connections !== undefined &&
    (results.pages?.pglite ?? results.pages?.postgres)?.mailboxList?.cpuMsPerRequest !== undefined
      ? results.pages
      : undefined;
  const start =
    (results.start?.pglite ?? results.start?.postgres)?.idleTreeRssMB !== undefined ? results.start : undefined;
  const busyPages = results['busy-pages'];
  const add = (r: J, x: J, engine: string, g: Omit<Goal, 'engine' | 'busy' | 'date'>) =>
    out.push({ ...g, engine, busy: busyIn(x), date: `${r.machine.date.slice(0, 16)}, load ${r.machine.loadavg[0]}` });
  for (const [k, name] of ENGINES) {
    const p = pages?.[k];
    if (pages && p) {
      const lists = [
        'mailboxList',
        'mailboxSearch',
        'mailboxPage150',
        'profileList',
        'emailList',
        'emailSearch',
      ].filter((t) => p[t]);
      for (const t of lists)
        add(pages, p[t], name, {
          goal: `1. ${t}: server CPU per page`,
          value: `${p[t].cpuMsPerRequest} ms`,
          target: `≤ ${p.cpuMsTarget} ms`,
          pass: p[t].cpuMsPerRequest <= p.cpuMsTarget,
        });
      add(pages, p, name, {
        goal: '1. mailbox list ÷ /healthz throughput',
        value: `${p.listOverHealthz}`,
        target: `≥ ${p.listOverHealthzTarget}`,
        pass: p.listOverHealthz >= p.listOverHealthzTarget,
      });
      for (const t of lists)
        add(pages, p[t], name, {
          goal: `1. ${t}: p99 at ${pages.options.connections} connections`,
          value: `${p[t].p99Ms} ms`,
          target: `≤ ${p.p99TargetMs} ms${pages.options.connections === 10 ? '' : ' (at 10)'}`,
          pass: p[t].p99Ms <= p.p99TargetMs && pages.options.connections === 10,
        });
    } else
      out.push(
        unmeasured('1. mailbox list: server CPU per page, p99', name, '—', 'run `npm run bench -- --only=pages`'),
      );
    const goal2 = '2. list p99 at 10 connections during a 1,000-mailbox Test & Enable';
    const b = busyPages?.[k];
    if (busyPages && b) {
      const c = busyPages.options.connections;
      const full = b.n >= 1000 && c === 10;
      const caveats = [
        ...(b.busy.runOutlastedWindow ? [] : ['the run ended inside the window']),
        ...(b.run.succeeded === b.n ? [] : [`${b.run.succeeded} of ${b.n} succeeded`]),
        ...(full ? [] : [`N = ${b.n}, ${c} connections`]),
      ];
      add(busyPages, b, name, {
        goal: goal2,
        value: `${b.busy.p99Ms} ms (p50 ${b.busy.p50Ms} ms, ${b.busy.reqPerSec} req/s; idle p99 ${b.idle.p99Ms} ms, busy ÷ idle ${b.p99OverIdle}×)${caveats.length ? `; ${caveats.join('; ')}` : ''}`,
        target: `≤ ${b.p99TargetMs} ms`,
        pass: b.busy.p99Ms <= b.p99TargetMs && caveats.length === 0,
      });
    } else out.push(unmeasured(goal2, name, '≤ 300 ms', 'run `npm run bench -- --only=busy-pages`'));
    const x = scale?.[k];
    const goals34: Array<[string, string]> = [
      ['3. click → job started (p50 of one-mailbox clicks)', '≤ 50 ms'],
      ['3. one mailbox click → result vs job + 50 ms', '≤ job + 50 ms'],
      ['4. 1,000 mailboxes at C = 50: wall ÷ (⌈N/C⌉ × job time)', '≤ 1.3'],
      ['4. one-at-a-time baseline: mailboxes measured (not extrapolated)', '≥ 200'],
    ];
    if (scale && x) {
      add(scale, x.machineBeforeEachRun?.singles ?? {}, name, {
        goal: '3. click → job started (p50 of one-mailbox clicks)',
        value: `${x.pickupMsMedian} ms`,
        target: `≤ ${x.pickupTargetMs} ms`,
        pass: x.pickupMsMedian <= x.pickupTargetMs,
      });
      add(scale, x.machineBeforeEachRun?.singles ?? {}, name, {
        goal: '3. one mailbox click → result vs job + 50 ms',
        value: `${x.oneMailboxMs} ms (job ${x.oneMailboxJobMs} ms)`,
        target: `≤ ${x.oneMailboxJobMs + 50} ms`,
        pass: x.oneMailboxMs <= x.oneMailboxJobMs + 50,
      });
      add(scale, x.machineBeforeEachRun?.all ?? {}, name, {
        goal: `4. ${x.n} mailboxes at C = ${x.workers}: wall ÷ (⌈N/C⌉ × job time)`,
        value: `${x.ratio} (${s(x.all.wallMs)}; job ${x.jobMs} ms)${x.n < 1000 ? '; N below 1,000: does not count' : ''}${x.all.succeeded === x.n ? '' : `; ${x.all.succeeded} of ${x.n} succeeded`}`,
        target: `≤ ${x.ratioTarget}`,
        pass: x.ratio <= x.ratioTarget && x.all.succeeded === x.n && x.n >= 1000,
      });
      add(scale, x.machineBeforeEachRun?.concurrency1 ?? {}, name, {
        goal: '4. one-at-a-time baseline: mailboxes measured (not extrapolated)',
        value: `${x.concurrency1.n} in ${s(x.concurrency1.wallMs)} (speed-up ${x.speedup}×)`,
        target: '≥ 200',
        pass: x.concurrency1.n >= 200,
      });
    } else for (const [goal, target] of goals34) out.push(unmeasured(goal, name, target, scaleWhy));
    const st = start?.[k];
    if (start && st) {
      const rssTarget = k === 'pglite' ? 250 : 200;
      add(start, st, name, {
        goal: '5. idle RSS of everything `npm start` runs (sum of RSS; PSS in brackets)',
        value: `${st.idleTreeRssMB} MB (PSS ${st.idleTreePssMB} MB)`,
        target: `≤ ${rssTarget} MB`,
        pass: st.idleTreeRssMB <= rssTarget,
      });
      add(start, st, name, {
        goal: '5. cold start (`npm start` → first 200 of /login, existing data)',
        value: `${st.coldStartMs} ms`,
        target: '≤ 2000 ms',
        pass: st.coldStartMs <= 2000,
      });
      add(start, st, name, {
        goal: '5. first start on a new database: server peak RSS',
        value: `${st.firstStartPeakMB} MB`,
        target: '≤ 500 MB',
        pass: st.firstStartPeakMB <= 500,
      });
    } else out.push(unmeasured('5. start and memory', name, '—', 'run `npm run bench -- --only=start`'));
    if (scale && x)
      add(scale, {}, name, {
        goal: '6. token endpoint over TLS; Test & Enable through the HTTP route',
        value: `${x.tokenEndpoint ?? 'http'}; POST /mailboxes/:id/test`,
        target: 'https; the route',
        pass: x.tokenEndpoint === 'https',
      });
  }
  return out;
}

function goalTable(): string {
  const g = goals();
  if (!g.length) return '_no results yet_';
  return [
    '| goal | engine | measured | target | | when (UTC), load |',
    '|---|---|---|---|---|---|',
    ...g.map(
      (x) =>
        `| ${x.goal} | ${x.engine} | ${x.value} | ${x.target} | ${mark(x.pass)}${x.busy ? ' BUSY' : ''} | ${x.date} |`,
    ),
  ].join('\n');
}

function scaleTable(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const row = (label: string, f: (x: J) => string) => `| ${label} | ${e.map(([k]) => f(r[k])).join(' | ')} |`;
  const o = r.options;
  return [
    `**Test & Enable at scale** — N = ${o.n}, C = ${o.workers}, ${o.delayMs} ms one-way delay per chunk on the token endpoint (HTTPS), IMAP and SMTP (${when(r)}; whole part ${r.seconds} s)${busyNote(r)}`,
    '',
    `| | ${e.map(([, n]) => n).join(' | ')} |`,
    `|---|${e.map(() => '---').join('|')}|`,
    row('one mailbox: click → job started (median; each click)', (x) =>
      x.pickupMsRuns ? `${v(x.pickupMsMedian)} (${x.pickupMsRuns.join(', ')})` : '— (an older bench: not recorded)',
    ),
    row('one mailbox: click → final status (median)', (x) => v(x.oneMailboxMs)),
    row('… the job itself (median)', (x) => v(x.oneMailboxJobMs)),
    row('job time of the ratio (median job at C = 1, no pick-up latency)', (x) => v(x.jobMs)),
    row(
      `all ${o.n} at C = ${o.workers}: request → last final status`,
      (x) => `${s(x.all.wallMs)} (enqueue ${x.all.requestMs} ms)`,
    ),
    row('ratio: wall ÷ (⌈N/C⌉ × job time) / speed-up over C = 1', (x) => `${v(x.ratio, '')} / ${v(x.speedup, '×')}`),
    row('… all succeeded / token refreshes', (x) => `${x.all.succeeded} / ${x.all.tokenRefreshes}`),
    row(
      '… app CPU (cores) / fakes / whole machine',
      (x) => `${x.all.cpu.app} / ${x.all.cpu.world} / ${Math.round(x.all.cpu.machine * 100)} %`,
    ),
    row(
      'C = 1: mailboxes, wall, per mailbox',
      (x) =>
        `${x.concurrency1.n}, ${s(x.concurrency1.wallMs)}, ${v(x.concurrency1.perMailboxMs ?? (x.concurrency1.wallMs && x.concurrency1.n ? Math.round(x.concurrency1.wallMs / x.concurrency1.n) : undefined))}`,
    ),
    row('machine busy before: singles / all / C = 1', (x) =>
      ['singles', 'all', 'concurrency1']
        .map((k) => {
          const q = x.machineBeforeEachRun?.[k];
          return q ? `${Math.round(q.busy * 100)} %${q.flagged ? ' BUSY' : ''}` : '—';
        })
        .join(' / '),
    ),
  ].join('\n');
}

function pagesTable(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const names: Array<[string, string]> = [
    ['healthz', 'GET /healthz'],
    ['mailboxList', 'mailbox list `/mailboxes`'],
    ['mailboxSearch', 'mailbox search `?q=mb12`'],
    ['mailboxPage150', 'mailbox list page 150'],
    ['mailboxByStatus', 'mailbox list `?sort=incoming&dir=asc`'],
    ['mailboxRecord', 'mailbox record (200 ids in turn)'],
    ['profileList', 'profile list `/profiles`'],
    ['emailList', 'Emails list `/emails`'],
    ['emailSearch', 'Emails search `?q=delivery`'],
  ];
  const o = r.options;
  const lines = [
    `**Pages** — ${o.mailboxes} mailboxes, ${o.profiles} profiles${o.emails ? `, ${o.emails} emails` : ''}; autocannon, ${o.connections} connections × ${o.durationSeconds} s each (after a warm-up), signed in as an admin, the server started by \`npm start\`${r.pglite?.sync === 'off' || r.postgres?.sync === 'off' ? ' with `SYNC=off`' : ''} (${when(r)})${busyNote(r)}`,
    '',
    `| page | ${e.map(([, n]) => `${n} CPU/req | req/s | p50 | p99 | busy before`).join(' | ')} |`,
    `|---|${e.map(() => '---|---|---|---|---').join('|')}|`,
  ];
  for (const [k, label] of names)
    if (e.some(([x]) => r[x][k]))
      lines.push(
        `| ${label} | ${e
          .map(([x]) => {
            const t = r[x][k];
            if (!t) return '— | — | — | — | —';
            return `${t.cpuMsPerRequest ?? '—'} ms | ${Math.round(t.reqPerSec)} | ${t.p50Ms} ms | ${t.p99Ms} ms | ${Math.round(t.machineBusyBefore * 100)} %`;
          })
          .join(' | ')} |`,
      );
  // The same database with synchronization on (npm start's default): its own rows, so neither figure hides the other.
  if (e.some(([x]) => r[x].syncOn)) {
    const on = (f: (y: J) => string) =>
      e.map(([x]) => (r[x].syncOn?.error ? r[x].syncOn.error : r[x].syncOn ? f(r[x].syncOn) : '—')).join(' | ');
    lines.push(
      '',
      `The rows above are measured with \`SYNC=off\`. The same server and database with \`SYNC=on\` (the default), the mailboxes enabled for synchronization pointing at mail servers that do not exist:`,
      '',
      `| SYNC=on | ${e.map(([, n]) => n).join(' | ')} |`,
      `|---|${e.map(() => '---').join('|')}|`,
      `| mailboxes enabled for synchronization | ${e.map(([x]) => r[x].syncOn?.syncCandidates ?? '—').join(' | ')} |`,
      `| server CPU at rest (share of one core over ${o.durationSeconds} s, ${e.map(([x]) => r[x].syncOn?.settleSeconds).find(Boolean)} s after start) | ${on((y) => `${round1(y.idleCpuShare * 100)} %`)} |`,
      `| mailbox list: CPU/req, req/s, p50, p99 | ${on((y) => (y.list.requests ? `${y.list.cpuMsPerRequest} ms, ${Math.round(y.list.reqPerSec)}, ${y.list.p50Ms} ms, ${y.list.p99Ms} ms` : `no page answered in ${o.durationSeconds} s (${y.list.timeouts} time-outs, ${y.list.errors} errors)`))} |`,
      `| machine busy before | ${on((y) => `${Math.round(y.machineBusyBefore * 100)} %${y.flagged ? ' BUSY' : ''}`)} |`,
    );
  }
  return lines.join('\n');
}

function busyPagesTable(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const row = (label: string, f: (x: J) => string) => `| ${label} | ${e.map(([k]) => f(r[k])).join(' | ')} |`;
  const o = r.options;
  const load = (x: J) => `${x.reqPerSec} req/s, p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms (${x.cpuMsPerRequest} ms CPU/req)`;
  return [
    `**The list during Test & Enable** — \`npm start\` (role all, SYNC=${o.sync}), ${o.n} Gmail mailboxes at C = ${o.workers} through the scale world (${o.delayMs} ms delay, HTTPS token endpoint), started by the list's "all matching" Test & Enable (\`POST /mailboxes/bulk/test\`); autocannon on \`/mailboxes\` (${o.n} mailboxes), ${o.connections} connections × ${o.durationSeconds} s, signed in as an admin (${when(r)})${busyNote(r)}`,
    '',
    `| | ${e.map(([, n]) => n).join(' | ')} |`,
    `|---|${e.map(() => '---').join('|')}|`,
    row('list, nothing running', (x) => load(x.idle)),
    row('list, during the run', (x) => load(x.busy)),
    row('busy ÷ idle: p99 / req/s', (x) => `${x.p99OverIdle} / ${x.reqPerSecOverIdle}`),
    row(
      "the run: still pending at the window's end / wall / succeeded",
      (x) => `${x.busy.pendingAtWindowEnd} / ${s(x.run.wallMs)} / ${x.run.succeeded} of ${x.n}`,
    ),
    row(
      'server cores: idle / during',
      (x) => `${x.idle.serverCores} / ${x.busy.serverCores} (machine ${Math.round(x.busy.machineBusy * 100)} %)`,
    ),
    row(
      'machine busy before: idle / during',
      (x) =>
        `${Math.round(x.idle.machineBusyBefore * 100)} %${x.idle.flagged ? ' BUSY' : ''} / ${Math.round(x.busy.machineBusyBefore * 100)} %${x.busy.flagged ? ' BUSY' : ''}`,
    ),
  ].join('\n');
}

function startTable(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const row = (label: string, f: (x: J) => string) => `| ${label} | ${e.map(([k]) => f(r[k])).join(' | ')} |`;
  return [
    `**Start and memory** — \`npm start\` (the stale-build check, then the compiled server) on an existing, migrated database; median of ${r.options.runs} (${when(r)})${busyNote(r)}`,
    '',
    `| | ${e.map(([, n]) => n).join(' | ')} |`,
    `|---|${e.map(() => '---').join('|')}|`,
    row(
      'cold start → first 200 of /login',
      (x) => `${x.coldStartMs} ms (${x.runs.map((y: J) => y.startMs).join(', ')})`,
    ),
    row(`idle, all processes: sum of RSS / of PSS`, (x) => `${x.idleTreeRssMB} / ${x.idleTreePssMB} MB`),
    row('… the processes (RSS)', (x) =>
      x.processes.map((p: J) => `${p.cmd.split(' ').slice(0, 2).join(' ')} ${p.rssMB} MB`).join('; '),
    ),
    row('first start on a new database: server peak (VmHWM)', (x) => `${x.firstStartPeakMB} MB (${x.firstStartMs} ms)`),
    row('idle CPU of the server (share of one core)', (x) => `${Math.round(x.idleCpuShare * 1000) / 10} %`),
    row('load average before each run', (x) =>
      x.runs.map((y: J) => `${y.loadavg1}${y.machineBusyBefore >= 0.25 ? ' BUSY' : ''}`).join(', '),
    ),
  ].join('\n');
}

export function renderResults(): string {
  const parts = [
    ['scale', scaleTable],
    ['busy-pages', busyPagesTable],
    ['pages', pagesTable],
    ['start', startTable],
  ] as const;
  return [
    "**Issue 15's goals** (BUSY: the machine was ≥ 25 % busy when that measurement began)",
    '',
    goalTable(),
    ...parts.map(([name, f]) => {
      const r = read(name);
      if (!r) return `_${name}: not run yet_`;
      try {
        return f(r);
      } catch {
        return `_${name}: the result file is from an older bench; run this part again_`;
      }
    }),
  ].join('\n\n');
}

/** Replaces the text between the results markers in bench/README.md. */
export function updateReadme(): void {
  const file = join(BENCH_DIR, 'README.md');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const a = '<!-- results:start -->',
    b = '<!-- results:end -->';
  const i = text.indexOf(a),
    j = text.indexOf(b);
  if (i < 0 || j < i) return;
  writeFileSync(file, `${text.slice(0, i + a.length)}\n${renderResults()}\n${text.slice(j)}`);
}

/** The goals as lines for the terminal: measured value and ✔/✘ each. */
export function printGoals(): string {
  return goals()
    .map((g) => `${mark(g.pass)} ${g.goal} [${g.engine}]: ${g.value} (target ${g.target})${g.busy ? ' BUSY' : ''}`)
    .join('\n');
}

if (process.argv[1] === import.meta.filename) {
  updateReadme();
  process.stdout.write(`${printGoals()}\n`);
}
