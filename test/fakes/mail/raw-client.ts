// A bare TLS line client for tests that pin the fakes' exact wire answers.
import tls from 'node:tls';
import { makeTestCa } from './tls.ts';

export interface RawClient {
  send(line: string): void;
  /** The next line from the server (without CRLF). */
  next(): Promise<string>;
  close(): void;
}

export async function rawConnect(port: number): Promise<RawClient> {
  const socket = tls.connect({ host: 'localhost', port, ca: makeTestCa().caPem });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 2);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return {
    send: (line) => socket.write(`${line}\r\n`),
    next: () =>
      new Promise((resolve) => {
        const line = lines.shift();
        if (line !== undefined) resolve(line);
        else waiters.push(resolve);
      }),
    close: () => socket.destroy(),
  };
}

export const b64 = (s: string) => Buffer.from(s).toString('base64');
export const xoauth2 = (user: string, token: string) => b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);
