// Shared bench helpers: machine info, result files, percentiles, timing, a bench database per engine.
import { cpus, totalmem, loadavg } from 'node:os';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

export const BENCH_DIR = import.meta.dirname;
export const ROOT = resolve(BENCH_DIR, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export type Engine = 'pglite' | 'postgres';

export function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}

export function writeResult(name: string, figures: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, machine: machine(), ...(figures as object) }, null, 2)}\n`);
  return file;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();
export const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function log(...parts: unknown[]): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.join(' ')}\n`);
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mailroom-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty PostgreSQL database for one bench part; drop() removes it. */
export async function benchPostgres(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mailroom_bench_${tag}_${randomBytes(3).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

export async function postgresReachable(): Promise<boolean> {
  try {
    await withAdmin((c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** Base environment of a bench Mailroom process (quiet logs, fixed keys). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SECRETS_KEY: randomBytes(32).toString('base64'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    // A/B of the pool size (decision 025's setting) without editing the bench.
    ...(process.env.DATABASE_POOL_SIZE ? { DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE } : {}),
    ...extra,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function procCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of a process group so far: every live member's own time, plus what the leader collected from the
 * children it reaped (Dovecot's master reaps its imap and imap-hibernate processes).
 */
export function groupCpuSeconds(pgid: number): number {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(f[2]) !== pgid) continue;
      sum += Number(f[11]) + Number(f[12]);
      if (Number(d) === pgid) sum += Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
  }
  return sum / 100;
}

/** Whole-machine busy and total CPU seconds so far, from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0) / 100;
  const idle = (f[3] + (f[4] ?? 0)) / 100;
  return { busy: total - idle, total };
}

/**
 * Waits (up to maxMs) until the machine is quiet: under `threshold` of all cores busy over a 1 s sample
 * (other sessions' test runs share this 2-core machine). Returns what it saw, for the result file.
 */
export async function waitForQuiet(
  maxMs = 90_000,
  threshold = 0.25,
): Promise<{ waitedMs: number; busy: number; loadavg1: number; flagged: boolean }> {
  const t0 = now();
  for (;;) {
    const a = machineCpuSeconds();
    await sleep(1000);
    const b = machineCpuSeconds();
    const busy = round((b.busy - a.busy) / (b.total - a.total), 2);
    if (busy < threshold || now() - t0 > maxMs) {
      const flagged = busy >= threshold;
      if (flagged)
        log(
          `machine still ${Math.round(busy * 100)}% busy (load ${loadavg()[0]}) after ${round((now() - t0) / 1000)} s: measuring anyway, flagged BUSY`,
        );
      return { waitedMs: round(now() - t0), busy, loadavg1: round(loadavg()[0], 2), flagged };
    }
  }
}
