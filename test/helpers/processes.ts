// Mailroom as real child processes (`node --import tsx <entry>`), with their output captured, for tests that need
// several processes: wait for a line, read the port a process listens on, stop it and get its exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startProcess(env: Record<string, string>, entry = 'src/server.ts'): Proc {
  let out = '';
  // Under setpriv's parent-death signal (as Dovecot in test/fakes/dovecot/process.ts): a test process that dies or
  // is timed out by the runner must not leave workers behind (seen: six orphaned workers from timed-out runs, each
  // keeping a few % of a core and its PostgreSQL connections). setpriv execs node: the pid is node's.
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', process.execPath, '--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
  });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    exited,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls the process output for `re` (generous: start-up under load takes a while); fails with the output. */
export async function waitForOutput(p: Proc, re: RegExp, ms = 90_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = re.exec(p.out());
    if (m) return m;
    if (p.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`did not see ${re} in:\n${p.out()}`);
}

/** The local URL a process started with PORT=0 listens on, from its "Mailroom is ready" log line. */
export async function listeningUrl(p: Proc): Promise<string> {
  const [, url] = await waitForOutput(p, /"url":"(http:\/\/localhost:\d+)"[^\n]*"msg":"Mailroom is ready"/);
  return url.replace('localhost', '127.0.0.1');
}

/** Polls `fn` until it returns a value (not undefined); errors count as "not yet". */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
