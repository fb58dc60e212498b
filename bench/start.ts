// Cold start to the first 200 of /login on an existing database, and idle RSS after a few seconds, of `node --import tsx src/server.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import {
  ROOT,
  baseEnv,
  benchPostgres,
  log,
  median,
  now,
  procCpuSeconds,
  round,
  sleep,
  tempDir,
  waitForQuiet,
  type Engine,
} from './util.ts';

export interface StartOptions {
  engines: Engine[];
  runs: number;
  idleSeconds: number;
  quietWaitMs: number;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** VmRSS / VmHWM etc. of a process in MB, from /proc/<pid>/status. */
export function memoryOf(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = round(Number(m[2]) / 1024);
  }
  return out;
}

export interface Server {
  child: ChildProcess;
  port: number;
  url: string;
  startMs: number;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Spawns the real server process and resolves at its first 200 on GET /login. */
export async function spawnServer(
  env: Record<string, string>,
  o: { args?: string[]; timeoutMs?: number; entry?: string[]; cwd?: string } = {},
): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let err = '';
  const t0 = now();
  const child = spawn(process.execPath, [...(o.args ?? []), ...(o.entry ?? ['--import', 'tsx', 'src/server.ts'])], {
    cwd: o.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = t0 + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`server exited before answering: ${err.slice(-2000)}`);
    if (now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer in time: ${err.slice(-2000)}`);
    }
    const ok = await fetch(`${url}/login`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      })
      .catch(() => false);
    if (ok) break;
    await sleep(10);
  }
  const startMs = now() - t0;
  return {
    child,
    port,
    url,
    startMs,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve(child.exitCode);
        const force = setTimeout(() => child.kill('SIGKILL'), 25_000);
        child.once('exit', (code) => {
          clearTimeout(force);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

export async function benchStart(o: StartOptions) {
  const out: Record<string, unknown> = {};
  for (const engine of o.engines) {
    const dir = engine === 'pglite' ? tempDir('start') : undefined;
    const pgdb = engine === 'postgres' ? await benchPostgres('start') : undefined;
    const env = baseEnv(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url });
    try {
      const first = await spawnServer(env, { timeoutMs: 120_000 }); // creates (PGlite) and migrates the database
      await first.stop();
      const runs: Array<{ startMs: number; exitCode: number | null } & Record<string, number | null>> = [];
      for (let i = 0; i < o.runs; i++) {
        const quiet = await waitForQuiet(o.quietWaitMs);
        const s = await spawnServer(env);
        await sleep(o.idleSeconds * 1000);
        const mem = memoryOf(s.child.pid!);
        let idleCpu: number | null = null;
        if (i === o.runs - 1) {
          // last run: CPU while idle, once start-up work is over (job workers poll the database)
          const cpu0 = procCpuSeconds(s.child.pid!);
          await sleep(o.idleSeconds * 1000);
          idleCpu = round((procCpuSeconds(s.child.pid!) - cpu0) / o.idleSeconds, 3);
        }
        const exitCode = await s.stop();
        runs.push({ startMs: round(s.startMs), ...mem, idleCpu, exitCode, machineBusyBefore: quiet.busy });
        log(
          `start[${engine}]: first 200 after ${round(s.startMs)} ms, idle RSS ${mem.VmRSS} MB (peak ${mem.VmHWM} MB), ${idleCpu === null ? '' : `idle CPU ${round(idleCpu * 100, 1)}% of a core, `}exit ${exitCode}`,
        );
      }
      out[engine] = {
        firstStartMs: round(first.startMs),
        coldStartMs: round(median(runs.map((r) => r.startMs))),
        coldStartTargetMs: 3000,
        idleRssMB: round(median(runs.map((r) => r.VmRSS!))),
        idleRssTargetMB: 300,
        peakRssMB: round(median(runs.map((r) => r.VmHWM!))),
        idleCpuShare: runs[runs.length - 1].idleCpu,
        runs,
      };
    } finally {
      dir?.remove();
      await pgdb?.drop();
    }
  }
  return { options: o, ...out };
}
