// Stopping `npm start` as a terminal (Ctrl-C) or a service manager does: a signal to the whole process group, once or
// repeated. Every stop must close the embedded database cleanly (its control file says "shut down", not "in production")
// and exit 0. 20 stops on one data directory, each checked.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const STOPS = 20;

/** PostgreSQL's DBState in pg_control (src/include/catalog/pg_control.h): 1 is a clean shutdown, 6 "in production". */
const DB_STATE = ['starting up', 'shut down', 'shut down in recovery', 'shutting down', 'in crash recovery'];
DB_STATE.push('in archive recovery', 'in production');

/**
 * What pg_controldata calls "Database cluster state", read from the data directory PGlite keeps on disk:
 * ControlFileData starts with system_identifier (8 bytes), pg_control_version and catalog_version_no (4 each), state.
 */
function clusterState(pgdata: string): string {
  const control = readFileSync(join(pgdata, 'global', 'pg_control'));
  const version = control.readUInt32LE(8);
  assert.ok(version >= 1300 && version < 10000, `unexpected pg_control_version ${version}`);
  return DB_STATE[control.readUInt32LE(16)] ?? `unknown (${control.readUInt32LE(16)})`;
}

interface Stop {
  signal: 'SIGTERM' | 'SIGINT';
  /** Milliseconds between repeated signals (the first is sent at once). */
  repeats: number[];
}

/** Once, once, three times in a burst, and again while the first shutdown is closing the database. */
const PATTERNS: Stop[] = [
  { signal: 'SIGTERM', repeats: [] },
  { signal: 'SIGINT', repeats: [] },
  { signal: 'SIGTERM', repeats: [20, 20] },
  { signal: 'SIGINT', repeats: [300] },
];

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

async function startAndStop(dataDir: string, stop: Stop): Promise<Ended> {
  let out = '';
  // npm start in a process group of its own, as a terminal or systemd runs it; no NODE_ENV, as a user types it.
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), DATA_DIR: dataDir, PORT: '0' },
  });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  // 'close': npm has exited and every process that shared its output (the server) has closed it, i.e. is gone.
  const closed = new Promise<Omit<Ended, 'out'>>((r) => child.on('close', (code, signal) => r({ code, signal })));
  try {
    await waitFor('Mailroom to be ready', () => (/Mailroom is ready at/.test(out) ? true : undefined));
  } catch (e) {
    process.kill(-child.pid!, 'SIGKILL');
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  process.kill(-child.pid!, stop.signal);
  for (const ms of stop.repeats) {
    await sleep(ms);
    try {
      process.kill(-child.pid!, stop.signal);
    } catch {
      /* the group is already gone */
    }
  }
  return { ...(await closed), out };
}

// npm start compiles src/ first when it changed (decision 021): do it once here, not inside the first stop's wait.
before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
});

test(`${STOPS} stops of npm start by a signal to its process group close the embedded database cleanly`, {
  timeout: 900_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mr-signals-'));
  for (let i = 0; i < STOPS; i++) {
    const stop = PATTERNS[i % PATTERNS.length];
    const { code, signal, out } = await startAndStop(dataDir, stop);
    const what = `stop ${i + 1} (${stop.signal} ×${stop.repeats.length + 1})`;
    assert.equal(clusterState(join(dataDir, 'pglite')), 'shut down', `${what}: the database was not closed\n${out}`);
    assert.equal(out.match(/"msg":"shutting down"/g)?.length, 1, `${what}: one shutdown\n${out}`);
    // Mailroom logs "stopped" right before it exits 0.
    assert.equal(out.match(/"msg":"stopped"/g)?.length, 1, `${what}: Mailroom exits 0\n${out}`);
    // npm exits with Mailroom's status, 0. Only a repeated signal that reaches npm after Mailroom has exited, while npm
    // winds down without its forwarding handler (it removes it when its child exits), ends npm by that signal.
    const lateRepeat = stop.repeats.length > 0 && code === null && signal === stop.signal;
    assert.ok(code === 0 || lateRepeat, `${what}: npm ended with ${code ?? signal}\n${out}`);
  }
});
