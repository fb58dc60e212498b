// Renders bench/results/sync.json as the synchronization tables of bench/README.md (between the sync markers).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, RESULTS_DIR } from './util.ts';

type J = Record<string, any>; // our own result file

const A = '<!-- sync:start -->';
const B = '<!-- sync:end -->';
const busy = (c: J) => `load ${c.load1} on ${c.cores} cores${c.busy ? ' ⚠️ busy' : ''}`;
const lat = (x: J) => `${x.p50} / ${x.p95} / ${x.max} ms`;
const latS = (x: J) => `${(x.p50 / 1000).toFixed(1)} / ${(x.p95 / 1000).toFixed(1)} / ${(x.max / 1000).toFixed(1)} s`;

export function renderSync(r: J): string {
  const l = r.latency;
  const f = r.firstSync;
  const date = `${r.machine.date.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}`;
  const ratio = (poll: J, idle: J) => Math.round(poll.p50 / Math.max(1, idle.p50));
  return [
    `**Synchronization** — PostgreSQL, one worker process (\`MAILROOM_ROLE=worker\`), Dovecot 2.3 ${r.dovecot.hibernateSeconds ? `with IDLE hibernation after ${r.dovecot.hibernateSeconds} s` : 'without IDLE hibernation (each IDLE keeps its imap process, as a provider keeps it ready)'} (${date}; whole part ${r.seconds} s)`,
    '',
    '| delivery → stored (p50 / p95 / max) | IMAP IDLE (Mailroom) | 60 s poll model | poll ÷ IDLE (p50) | machine |',
    '|---|---|---|---|---|',
    `| 1 mailbox (${l.one.idle.n} messages, one at a time) | ${lat(l.one.idle)} | ${latS(l.one.poll)} | ${ratio(l.one.poll, l.one.idle)}× | ${busy(l.one)} |`,
    `| ${l.many.mailboxes} mailboxes at once (${l.many.idle.n} messages) | ${lat(l.many.idle)} | ${latS(l.many.poll)} | ${ratio(l.many.poll, l.many.idle)}× | ${busy(l.many)} |`,
    '',
    `Poll model: a message waits a uniform share of the ${r.pollSeconds} s interval for the next poll, plus that poll's own time measured here against the same Dovecot (connect, XOAUTH2, open INBOX, fetch new, log out): ${lat(l.one.pollCycleMs)} alone, ${lat(l.many.pollCycleMs)} with ${l.many.mailboxes} polling at once.`,
    '',
    ...(l.many.cpuSecondsPerRound
      ? [
          `CPU per round of ${l.many.mailboxes} deliveries (the same 2 cores run Mailroom, Dovecot and PostgreSQL): worker ${l.many.cpuSecondsPerRound.worker.join(' / ')} s, Dovecot ${l.many.cpuSecondsPerRound.dovecot.join(' / ')} s.`,
          '',
        ]
      : []),
    `Messages not stored within 60 s of delivery: **${r.notStoredWithin60s ?? 0}**${r.notStoredWithin60s ? " (left out of the percentiles; their mailboxes' sync rows are in `results/sync.json`)" : ''}.`,
    '',
    '| first synchronization | messages | seconds | msg/s | machine |',
    '|---|---|---|---|---|',
    `| plain imapflow fetch loop (\`UID FETCH 1:* (UID BODY[] INTERNALDATE RFC822.SIZE)\`, ${f.reference.mb} MB) | ${f.reference.messages} | ${f.reference.seconds} | ${f.reference.msgsPerS} | ${busy(f.reference)} |`,
    `| Mailroom: enabled → all stored | ${f.mailroom.messages} | ${f.mailroom.seconds} | ${f.mailroom.msgsPerS} (**${f.ratio}×** the loop) | ${busy(f.mailroom)} |`,
    '',
    '| idle worker | RSS | CPU (% of one core, 10 s at rest) | machine |',
    '|---|---|---|---|',
    ...r.idle.map(
      (s: J) => `| ${s.mailboxes} mailboxes in IDLE | ${s.rssMB} MB | ${s.cpuPercentOfOneCore} % | ${busy(s)} |`,
    ),
    ...r.perMailbox.map(
      (p: J) => `| … per mailbox at ${p.mailboxes} | ${p.rssKBPerMailbox} KB | ${p.cpuPercentPerMailbox} % | |`,
    ),
  ].join('\n');
}

/** Rewrites the sync section of bench/README.md from bench/results/sync.json (no-op without it). */
export function updateSyncReadme(): void {
  const file = join(RESULTS_DIR, 'sync.json');
  if (!existsSync(file)) return;
  const readme = join(BENCH_DIR, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const body = `${A}\n${renderSync(JSON.parse(readFileSync(file, 'utf8')))}\n${B}`;
  const i = text.indexOf(A);
  const j = text.indexOf(B);
  writeFileSync(readme, i >= 0 && j > i ? text.slice(0, i) + body + text.slice(j + B.length) : `${text}\n${body}\n`);
}
