// Runs one Dovecot master for a test process: started in the foreground under a parent-death signal, in its own
// process group, so that stop() — or the test process dying, even by SIGKILL — leaves no Dovecot process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const DOVECOT = '/usr/sbin/dovecot';
export const DOVEADM = '/usr/bin/doveadm';

export interface DovecotProcess {
  pid: number;
  /** Resolves once the master and every process it forked are gone (SIGKILL to the group after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** Whether any process of the instance's process group is still alive. */
  alive(): boolean;
}

/** Tells what is missing, in the words of the fix, before anything is started. */
export function assertDovecotUsable(): void {
  if (!existsSync(DOVECOT) || !existsSync(DOVEADM)) {
    throw new Error('Dovecot is not installed: apt-get install dovecot-imapd dovecot-pop3d (.ci/run does it).');
  }
  if (process.getuid?.() !== 0) {
    throw new Error('The Dovecot test server needs root: it gives each mail user a uid of their own (see config.ts).');
  }
}

/** Loopback ports nothing listens on right now; a race with another process is caught by start()'s retry. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export class DovecotStartError extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

const groups = new Set<number>();
let exitHookInstalled = false;

/** Last resort on a normal exit (also after an uncaught error): signal every group still running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Pids of the group's processes that still run (zombies only wait for init to reap them: they hold nothing). */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

const groupAlive = (pgid: number): boolean => groupMembers(pgid).length > 0;

/** Dovecot logs "starting up" only after every listener is bound; a port answering alone could be another process. */
function startedUp(logPath: string): boolean {
  try {
    return readFileSync(logPath, 'utf8').includes(' starting up ');
  } catch {
    return false;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The log's last lines, for error messages (the log holds no secrets: tokens and passwords are never logged). */
export function logTail(logPath: string, lines = 15): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `dovecot -F -c config` and resolves once every port accepts connections. Rejects with the log's tail
 * when the master exits first (e.g. a port taken meanwhile: the caller retries with other ports).
 */
export async function startMaster(o: {
  config: string;
  log: string;
  ports: number[];
  timeoutMs: number;
}): Promise<DovecotProcess> {
  installExitHook();
  // setpriv (util-linux, always installed on Debian) sets PR_SET_PDEATHSIG: the master gets SIGTERM when the test
  // process dies, however it dies, and its shutdown takes its children along (shutdown_clients = yes).
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'TERM', '--', DOVECOT, '-F', '-c', o.config], {
    detached: true, // own process group: stop() can check and, if need be, kill exactly Dovecot's processes
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not spawn Dovecot.');
  groups.add(pid);
  child.unref(); // a forgotten stop() must not keep the test process alive; the parent-death signal cleans up
  (child.stderr as net.Socket | null)?.unref();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });

  const handle: DovecotProcess = {
    pid,
    alive: () => groupAlive(pid),
    async stop(graceMs = 3000) {
      // SIGTERM: the master stops its services and waits for them; what is still there after graceMs is killed.
      if (!exited) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
      if (groupAlive(pid)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        const killDeadline = Date.now() + 10_000;
        while (groupAlive(pid) && Date.now() < killDeadline) await sleep(20);
      }
      await Promise.race([exitPromise, sleep(1000)]); // reaped: no zombie of ours left behind
      groups.delete(pid);
      if (groupAlive(pid)) throw new Error(`Dovecot's process group ${pid} is still there after SIGKILL.`);
    },
  };

  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (exited) {
      await handle.stop(1000);
      const why = `Dovecot exited while starting (${JSON.stringify(exited)}): ${stderr.trim()}\n${logTail(o.log)}`;
      throw new DovecotStartError(why, /Address already in use/.test(stderr));
    }
    if (startedUp(o.log) && (await Promise.all(o.ports.map(canConnect))).every(Boolean) && !exited) return handle;
    if (Date.now() > deadline) {
      await handle.stop(1000);
      throw new Error(`Dovecot did not listen within ${o.timeoutMs} ms.\n${logTail(o.log)}`);
    }
    await sleep(25);
  }
}
