// The bench's goal verdicts (bench/report.ts goals()): every goal has a row on each engine, a missing or older result
// file says "not measured" instead of printing undefined, and goal 2 passes only when measured as the issue states it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goals, type Results } from '../../bench/report.ts';

const machine = { date: '2026-12-01T22:00:00.000Z', loadavg: [0.2, 0.3, 0.4] };

function busyPages(o: { p99: number; n?: number; connections?: number; pendingAtEnd?: number; succeeded?: number }) {
  const n = o.n ?? 1000;
  const engine = {
    n,
    idle: { p50Ms: 20, p99Ms: 40, reqPerSec: 300, flagged: false },
    busy: {
      p50Ms: 100,
      p99Ms: o.p99,
      reqPerSec: 80,
      flagged: false,
      runOutlastedWindow: (o.pendingAtEnd ?? 500) > 0,
      pendingAtWindowEnd: o.pendingAtEnd ?? 500,
    },
    run: { wallMs: 30_000, succeeded: o.succeeded ?? n, pendingAtEnd: 0 },
    p99OverIdle: o.p99 / 40,
    p99TargetMs: 300,
  };
  return { machine, options: { connections: o.connections ?? 10 }, pglite: engine, postgres: engine };
}

const goal2 = (r: Results, engine = 'PGlite') => goals(r).find((g) => g.goal.startsWith('2.') && g.engine === engine)!;

test('with no result files every goal still has a row on both engines, saying it was not measured', () => {
  const g = goals({});
  for (const engine of ['PGlite', 'PostgreSQL'])
    for (const n of ['1.', '2.', '3.', '4.', '5.']) {
      const rows = g.filter((x) => x.engine === engine && x.goal.startsWith(n));
      assert.ok(rows.length > 0, `goal ${n} on ${engine}`);
      for (const row of rows) {
        assert.match(row.value, /^not measured/);
        assert.equal(row.pass, false);
      }
    }
  assert.ok(g.every((x) => !/undefined|NaN/.test(x.value)));
});

test('a scale file from before issue 15 (no pick-up times) gives "not measured" goal 3 and 4 rows, not undefined', () => {
  const old = { machine, options: {}, pglite: { oneMailboxMs: 975, concurrency1: { n: 60, wallMs: 60_500 } } };
  const rows = goals({ scale: old }).filter((x) => /^[34]\./.test(x.goal));
  assert.equal(rows.length, 8); // 2 + 2 goals, both engines
  for (const row of rows) assert.match(row.value, /not measured: scale\.json is from an older bench/);
});

test('a scale file with the new fields gives goal 3 and 4 values and verdicts', () => {
  const x = {
    n: 1000,
    workers: 50,
    pickupMsMedian: 30,
    pickupTargetMs: 50,
    oneMailboxMs: 520,
    oneMailboxJobMs: 480,
    jobMs: 470,
    ratio: 1.2,
    ratioTarget: 1.3,
    speedup: 40,
    all: { wallMs: 11_300, succeeded: 1000 },
    concurrency1: { n: 200, wallMs: 100_000 },
    tokenEndpoint: 'https',
  };
  const rows = goals({ scale: { machine, options: {}, postgres: x } }).filter(
    (g) => g.engine === 'PostgreSQL' && /^[34]\./.test(g.goal),
  );
  assert.deepEqual(
    rows.map((r) => r.pass),
    [true, true, true, true],
  );
  assert.match(rows[0].value, /^30 ms$/);
  const slow = goals({ scale: { machine, options: {}, postgres: { ...x, pickupMsMedian: 60, ratio: 1.5 } } });
  assert.equal(slow.find((g) => g.goal.startsWith('3. click') && g.engine === 'PostgreSQL')!.pass, false);
  assert.equal(slow.find((g) => g.goal.startsWith('4. 1000') && g.engine === 'PostgreSQL')!.pass, false);
});

test('goal 2 passes at ≤ 300 ms p99, measured with 1,000 mailboxes at 10 connections while the run lasted', () => {
  assert.equal(goal2({ 'busy-pages': busyPages({ p99: 300 }) }).pass, true);
  assert.match(goal2({ 'busy-pages': busyPages({ p99: 300 }) }).value, /^300 ms \(p50 100 ms/);
  assert.equal(goal2({ 'busy-pages': busyPages({ p99: 301 }) }).pass, false);
  // Measured otherwise than the goal says: the value is shown with why it does not count.
  const small = goal2({ 'busy-pages': busyPages({ p99: 100, n: 100 }) });
  assert.equal(small.pass, false);
  assert.match(small.value, /N = 100/);
  const ended = goal2({ 'busy-pages': busyPages({ p99: 100, pendingAtEnd: 0 }) });
  assert.equal(ended.pass, false);
  assert.match(ended.value, /the run ended inside the window/);
  const failed = goal2({ 'busy-pages': busyPages({ p99: 100, succeeded: 990 }) });
  assert.equal(failed.pass, false);
  assert.match(failed.value, /990 of 1000 succeeded/);
});
