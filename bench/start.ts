// Cold start to the first 200 of /login on an existing database, and idle memory after a few seconds, of `npm start`:
// every process it runs (npm, the server it execs), measured from outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg } from 'node:os';
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

/** The process and all its descendants (from /proc: ppid), e.g. npm and the server it started. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/**
 * Memory of a process tree in MB: the sum of each process's RSS (what `ps` shows, counting shared pages such as the
 * node binary once per process) and of its PSS (shared pages divided among their users: the tree's real share).
 */
export function treeMemory(root: number): {
  rssMB: number;
  pssMB: number;
  processes: Array<{ pid: number; cmd: string; rssMB: number; pssMB: number; hwmMB: number }>;
} {
  const processes = processTree(root).map((pid) => {
    const m = memoryOf(pid);
    let pss = Number.NaN;
    try {
      pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]) / 1024;
    } catch {
      /* no smaps_rollup */
    }
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80);
    return { pid, cmd, rssMB: m.VmRSS ?? 0, pssMB: round(pss), hwmMB: m.VmHWM ?? 0 };
  });
  return {
    rssMB: round(processes.reduce((a, p) => a + p.rssMB, 0)),
    pssMB: round(processes.reduce((a, p) => a + p.pssMB, 0)),
    processes,
  };
}

export interface Server {
  child: ChildProcess;
  serverPid: number;
  port: number;
  url: string;
  startMs: number;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Spawns the real server process and resolves at its first 200 on GET /login. */
export async function spawnServer(
  env: Record<string, string>,
  o: { args?: string[]; timeoutMs?: number; entry?: string[]; cwd?: string; npmStart?: boolean } = {},
): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let err = '';
  const t0 = now();
  const spawnEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) };
  // npmStart: exactly what a user runs (npm, the stale-build check, the compiled server), in a process group of its own.
  const child = o.npmStart
    ? spawn('npm', ['start', '--silent'], {
        cwd: o.cwd ?? ROOT,
        env: spawnEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      })
    : spawn(process.execPath, [...(o.args ?? []), ...(o.entry ?? ['dist/src/server.js'])], {
        cwd: o.cwd ?? ROOT,
        env: spawnEnv,
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
      // npm start runs the server in a process group of its own: kill the group, or the server outlives npm (a
      // SYNC=on server left this way kept a core busy for two hours under later measurements).
      if (o.npmStart && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      } else child.kill('SIGKILL');
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
  // The Mailroom process itself (npm's child when started through npm): the one whose CPU the pages bench reads.
  const serverPid = o.npmStart
    ? (processTree(child.pid!).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server.js')) ??
      child.pid!)
    : child.pid!;
  return {
    child,
    serverPid,
    port,
    url,
    startMs,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve(child.exitCode);
        const kill = (sig: NodeJS.Signals) => (o.npmStart ? process.kill(-child.pid!, sig) : child.kill(sig));
        const force = setTimeout(() => kill('SIGKILL'), 25_000);
        child.once('exit', (code) => {
          clearTimeout(force);
          resolve(code);
        });
        kill('SIGTERM');
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
      // The first start creates (PGlite) and migrates the database: its peak is the server's VmHWM once ready.
      const first = await spawnServer(env, { timeoutMs: 120_000, npmStart: true });
      const firstPeakMB = memoryOf(first.serverPid).VmHWM;
      await first.stop();
      const runs: Array<Record<string, number | boolean | null>> = [];
      let processes: ReturnType<typeof treeMemory>['processes'] = [];
      for (let i = 0; i < o.runs; i++) {
        const quiet = await waitForQuiet(o.quietWaitMs);
        const s = await spawnServer(env, { npmStart: true });
        await sleep(o.idleSeconds * 1000);
        const tree = treeMemory(s.child.pid!);
        processes = tree.processes;
        const server = memoryOf(s.serverPid);
        let idleCpu: number | null = null;
        if (i === o.runs - 1) {
          // last run: CPU while idle, once start-up work is over (job workers poll the database)
          const cpu0 = procCpuSeconds(s.serverPid);
          await sleep(o.idleSeconds * 1000);
          idleCpu = round((procCpuSeconds(s.serverPid) - cpu0) / o.idleSeconds, 3);
        }
        const exitCode = await s.stop();
        runs.push({
          startMs: round(s.startMs),
          treeRssMB: tree.rssMB,
          treePssMB: tree.pssMB,
          serverRssMB: server.VmRSS,
          serverPeakMB: server.VmHWM,
          idleCpu,
          exitCode,
          machineBusyBefore: quiet.busy,
          flagged: quiet.flagged,
          loadavg1: loadavg()[0],
        });
        log(
          `start[${engine}]: npm start → first 200 after ${round(s.startMs)} ms; idle: tree RSS ${tree.rssMB} MB (PSS ${tree.pssMB} MB; server ${server.VmRSS} MB), ${idleCpu === null ? '' : `idle CPU ${round(idleCpu * 100, 1)}% of a core, `}exit ${exitCode}`,
        );
      }
      out[engine] = {
        command: 'npm start',
        firstStartMs: round(first.startMs),
        firstStartPeakMB: firstPeakMB,
        coldStartMs: round(median(runs.map((r) => r.startMs as number))),
        idleTreeRssMB: round(median(runs.map((r) => r.treeRssMB as number))),
        idleTreePssMB: round(median(runs.map((r) => r.treePssMB as number))),
        idleServerRssMB: round(median(runs.map((r) => r.serverRssMB as number))),
        idleCpuShare: runs[runs.length - 1].idleCpu,
        processes,
        runs,
      };
    } finally {
      dir?.remove();
      await pgdb?.drop();
    }
  }
  return { options: o, ...out };
}
