// Renders bench/results/*.json as the Markdown tables of bench/README.md (between the results markers); run.ts calls it after each run.
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
const ok = (v: number | undefined, good: (x: number) => boolean, unit = '') =>
  v === undefined ? '—' : `${v}${unit}${good(v) ? ' ✅' : ' ❌'}`;
const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const when = (r: J) =>
  `${r.machine.date.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}`;

function scale(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const row = (label: string, f: (x: J) => string, target = '') =>
    `| ${label} | ${e.map(([k]) => f(r[k])).join(' | ')} | ${target} |`;
  const o = r.options;
  return [
    `**Test & Enable at scale** — N = ${o.n}, C = ${o.workers}, ${o.delayMs} ms one-way delay per chunk on the token endpoint, IMAP and SMTP (${when(r)}; whole part ${r.seconds} s)`,
    '',
    `| | ${e.map(([, n]) => n).join(' | ')} | target |`,
    `|---|${e.map(() => '---').join('|')}|---|`,
    row('one mailbox alone, request → final status (median of 5)', (x) => `${x.oneMailboxMs} ms`),
    row('… of which the job itself (median, C = 1 run)', (x) => `${x.concurrency1.jobMsMedian} ms`),
    row(
      `all ${o.n} at C = ${o.workers}: request → last final status`,
      (x) => `${s(x.all.wallMs)} (enqueue ${x.all.requestMs} ms)`,
    ),
    row('… all succeeded / token refreshes', (x) => `${x.all.succeeded} / ${x.all.tokenRefreshes}`),
    row(
      '… app process CPU (cores) / fakes process / whole machine',
      (x) => `${x.all.cpu.app} / ${x.all.cpu.world} / ${Math.round(x.all.cpu.machine * 100)} %`,
    ),
    row(`**ratio** wall ÷ (⌈N/C⌉ × one mailbox)`, (x) => `**${ok(x.ratio, (v) => v <= 1.3)}**`, '≤ 1.3'),
    row('C = 1: mailboxes measured, wall', (x) => `${x.concurrency1.n}, ${s(x.concurrency1.wallMs)}`),
    row(
      `C = 1 extrapolated linearly to ${o.n}`,
      (x) => `${s(x.concurrency1.extrapolatedMs)}${x.concurrency1.extrapolated ? ' (extrapolated)' : ''}`,
    ),
    row('**speed-up** over C = 1', (x) => `**${ok(x.speedup, (v) => v >= 30, '×')}**`, '≥ 30×'),
  ].join('\n');
}

function pages(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const names: Array<[string, string]> = [
    ['healthz', 'GET /healthz'],
    ['mailboxList', 'mailbox list, 50 a page, `?sort=incoming&dir=asc`'],
    ['mailboxRecord', 'mailbox record `/mailboxes/:id` (200 ids in turn)'],
    ['profileList', 'profile list `/profiles`'],
  ];
  const o = r.options;
  const lines = [
    `**Pages** — ${o.mailboxes} mailboxes, ${o.profiles} profiles; autocannon, ${o.connections} connections × ${o.durationSeconds} s each (after a 2 s warm-up), signed in as an admin; then 1 connection × 3 s for the service time (${when(r)})`,
    '',
    `| page | ${e.map(([, n]) => `${n} req/s | p50 | p99 | 1 conn p50`).join(' | ')} |`,
    `|---|${e.map(() => '---|---|---|---').join('|')}|`,
  ];
  for (const [k, label] of names)
    lines.push(
      `| ${label} | ${e
        .map(([x]) => {
          const t = r[x][k];
          return `${Math.round(t.reqPerSec)} | ${t.p50Ms} ms | ${ok(t.p99Ms, (v) => v <= 50, ' ms')} | ${t.oneConnection.p50Ms} ms`;
        })
        .join(' | ')} |`,
    );
  lines.push(
    `| **list ÷ healthz** (target ≥ 0.5) | ${e.map(([x]) => `**${ok(r[x].listOverHealthz, (v) => v >= 0.5)}** | | |`).join(' | ')} |`,
  );
  const errs = e
    .map(([x, n]) => `${n}: ${names.map(([k]) => r[x][k].errors + r[x][k].non2xx).reduce((a, b) => a + b, 0)}`)
    .join(', ');
  lines.push('', `Errors + non-2xx over all runs — ${errs}. p99 target ≤ 50 ms.`);
  return lines.join('\n');
}

function start(r: J): string {
  const e = ENGINES.filter(([k]) => r[k]);
  const row = (label: string, f: (x: J) => string, target = '') =>
    `| ${label} | ${e.map(([k]) => f(r[k])).join(' | ')} | ${target} |`;
  return [
    `**Start and memory** — \`node --import tsx src/server.ts\` on an existing, migrated database; median of ${r.options.runs} (${when(r)})`,
    '',
    `| | ${e.map(([, n]) => n).join(' | ')} | target |`,
    `|---|${e.map(() => '---').join('|')}|---|`,
    row(
      'cold start → first 200 of /login',
      (x) => `**${ok(x.coldStartMs, (v) => v <= 3000, ' ms')}** (${x.runs.map((y: J) => y.startMs).join(', ')})`,
      '≤ 3000 ms',
    ),
    row(
      `idle RSS after ${r.options.idleSeconds} s (VmRSS)`,
      (x) => `**${ok(x.idleRssMB, (v) => v <= 300, ' MB')}** (${x.runs.map((y: J) => y.VmRSS).join(', ')})`,
      '≤ 300 MB',
    ),
    row('peak RSS (VmHWM)', (x) => `${x.peakRssMB} MB`),
    row('idle CPU, seconds 5–10 (share of one core)', (x) => `${Math.round(x.idleCpuShare * 1000) / 10} %`),
  ].join('\n');
}

export function renderResults(): string {
  const parts = [
    ['scale', scale],
    ['pages', pages],
    ['start', start],
  ] as const;
  return parts
    .map(([name, f]) => {
      const r = read(name);
      return r ? f(r) : `_${name}: not run yet_`;
    })
    .join('\n\n');
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

if (process.argv[1] === import.meta.filename) {
  updateReadme();
  process.stdout.write(`${renderResults()}\n`);
}
