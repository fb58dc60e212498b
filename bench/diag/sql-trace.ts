// Diagnostic: SQL statements per Test & Enable mailbox on PGlite, counted by statement shape (N=100 by default). Usage: N=100 tsx bench/diag/sql-trace.ts
import { PGlite } from '@electric-sql/pglite';
const stats = new Map<string, { n: number; rows: number; ms: number }>();
const key = (sql: string) => sql.replace(/\s+/g, ' ').slice(0, 110);
function rec(sql: string, rows: number, ms: number) {
  const k = key(sql);
  const s = stats.get(k) ?? { n: 0, rows: 0, ms: 0 };
  s.n++;
  s.rows += rows;
  s.ms += ms;
  stats.set(k, s);
}
const origQuery = PGlite.prototype.query;
(PGlite.prototype as any).query = async function (sql: string, params?: unknown[], opts?: unknown) {
  const t = performance.now();
  const r = await origQuery.call(this, sql, params, opts as never);
  if ((globalThis as any).TRACE) rec(sql, r.rows.length, performance.now() - t);
  return r;
};
const origTx = PGlite.prototype.transaction;
(PGlite.prototype as any).transaction = function (cb: any) {
  return origTx.call(this, (tx: any) => {
    const q = tx.query.bind(tx);
    tx.query = async (sql: string, p: unknown[], o: unknown) => {
      const t = performance.now();
      const r = await q(sql, p, o);
      if ((globalThis as any).TRACE) rec(`[tx] ${sql}`, r.rows.length, performance.now() - t);
      return r;
    };
    return cb(tx);
  });
};
const origExec = PGlite.prototype.exec;
(PGlite.prototype as any).exec = async function (sql: string, o?: unknown) {
  const t = performance.now();
  const r = await origExec.call(this, sql, o as never);
  if ((globalThis as any).TRACE)
    rec(
      `[exec] ${sql}`,
      r.reduce((a: number, x: any) => a + x.rows.length, 0),
      performance.now() - t,
    );
  return r;
};
(globalThis as any).TRACE = false;
const { benchScaleTrace } = await import('./scale-trace.ts');
await benchScaleTrace(
  () => {
    (globalThis as any).TRACE = true;
  },
  () => {
    (globalThis as any).TRACE = false;
  },
);
let tn = 0,
  tr = 0,
  tms = 0;
for (const [k, v] of [...stats].sort((a, b) => b[1].n - a[1].n)) {
  tn += v.n;
  tr += v.rows;
  tms += v.ms;
  console.log(String(v.n).padStart(6), String(v.rows).padStart(7), v.ms.toFixed(0).padStart(6), k);
}
console.log('total', tn, tr, tms.toFixed(0));
process.exit(0);
