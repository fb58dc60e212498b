// What `npm start` prints: JSON log lines when stdout is piped or collected, readable lines on a terminal
// (a pseudo-terminal from util-linux `script`), and Ctrl-C on that terminal stops the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../helpers/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVER = [process.execPath, '--import', 'tsx', 'src/server.ts'];
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (?:INFO|WARN|ERROR): /m;
const ANSI = /\u001b\[[0-9;]*m/g;

function start(command: string[]): { child: ChildProcess; out: () => string; exited: Promise<unknown> } {
  let out = '';
  const env = {
    PATH: process.env.PATH ?? '',
    TERM: 'xterm',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'mr-logs-')),
  };
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, out: () => out, exited };
}

test('stdout not a terminal: every log line is a JSON object', async () => {
  const p = start(SERVER);
  try {
    await waitFor('a log line', () => (/^\{.*"level":30/m.test(p.out()) ? true : undefined));
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  const logLines = p
    .out()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  for (const l of logLines) assert.equal(typeof (JSON.parse(l) as { msg?: unknown }).msg, 'string', l);
  assert.ok(logLines.length >= 2, p.out());
  assert.doesNotMatch(p.out(), PRETTY_LINE);
});

test('stdout a terminal: readable log lines; Ctrl-C stops the server cleanly', async () => {
  // script -q: no banner; -e: its exit status is the command's; -f: flush at once; its typescript goes to /dev/null.
  const p = start(['script', '-qefc', `exec ${SERVER.join(' ')}`, '/dev/null']);
  let code: number | null = null;
  try {
    await waitFor('a readable INFO line', () => (/INFO/.test(p.out().replace(ANSI, '')) ? true : undefined));
    p.child.stdin!.write('\x03'); // the terminal turns Ctrl-C into SIGINT for the server
    code = await waitFor('the server to stop', () => p.child.exitCode ?? undefined);
  } finally {
    if (code === null) p.child.kill('SIGTERM');
    await p.exited;
  }
  assert.equal(code, 0, p.out());
  const text = p.out().replace(ANSI, '').replace(/\r/g, '');
  assert.match(text, PRETTY_LINE);
  assert.doesNotMatch(text, /^\{"level"/m);
});
