// Loopback implicit-TLS listener shared by the IMAP and POP3 fakes: modes, response delay, stats, pull-style reader.
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestCa, makeUntrustedCert, makeWrongHostCert } from './tls.ts';
import type { ServerMode, ServerStats } from './world.ts';

/** Reads CRLF lines and raw byte runs from a socket, one request at a time; null once the peer is gone. */
export class SocketReader {
  private buf = Buffer.alloc(0);
  private closed = false;
  private pending: { n: number | null; resolve: (v: Buffer | null) => void } | null = null;

  constructor(
    socket: net.Socket,
    private readonly maxLine = 1 << 20,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.pump();
    });
    const done = () => {
      this.closed = true;
      this.pump();
    };
    socket.on('end', done);
    socket.on('close', done);
  }

  async readLine(encoding: BufferEncoding = 'utf8'): Promise<string | null> {
    const raw = await this.request(null);
    return raw === null ? null : raw.toString(encoding);
  }

  readBytes(n: number): Promise<Buffer | null> {
    return this.request(n);
  }

  private request(n: number | null): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.pending = { n, resolve };
      this.pump();
    });
  }

  private pump(): void {
    const p = this.pending;
    if (!p) return;
    let out: Buffer | null | undefined;
    if (p.n === null) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        out = this.buf.subarray(0, nl > 0 && this.buf[nl - 1] === 0x0d ? nl - 1 : nl);
        this.buf = this.buf.subarray(nl + 1);
      } else if (this.buf.length > this.maxLine) {
        out = null; // a line that never ends is a broken client
      }
    } else if (this.buf.length >= p.n) {
      out = this.buf.subarray(0, p.n);
      this.buf = this.buf.subarray(p.n);
    }
    if (out === undefined && this.closed) out = null;
    if (out === undefined) return;
    this.pending = null;
    p.resolve(out);
  }
}

export interface Session {
  socket: tls.TLSSocket;
  reader: SocketReader;
  remoteAddress: string;
  /** Writes lines (CRLF added) after the configured delay. */
  send(...lines: string[]): Promise<void>;
  /** The client logged out (LOGOUT, QUIT): from now on the connection no longer counts as concurrent. */
  loggedOut(): void;
}

export interface TlsListener {
  port: number;
  stats: ServerStats; // live object: servers count logins into it
  close(): Promise<void>;
  setMode(mode: ServerMode): void;
  setDelay(ms: number): void;
}

const contexts = new Map<ServerMode, tls.SecureContext>();

function contextFor(mode: ServerMode): tls.SecureContext {
  const cached = contexts.get(mode);
  if (cached) return cached;
  const pair = mode === 'badCert' ? makeUntrustedCert() : mode === 'wrongHost' ? makeWrongHostCert() : makeTestCa();
  const context = tls.createSecureContext({ cert: pair.certPem, key: pair.keyPem });
  contexts.set(mode, context);
  return context;
}

export async function startTlsListener(opts: {
  mode?: ServerMode;
  delayMs?: number;
  port?: number;
  session: (s: Session) => Promise<void>;
}): Promise<TlsListener> {
  let mode: ServerMode = opts.mode ?? 'normal';
  let delayMs = opts.delayMs ?? 0;
  const sockets = new Set<net.Socket>();
  const stats: ServerStats = { connections: 0, concurrent: 0, maxConcurrent: 0, logins: 0, failedLogins: 0 };

  const server = net.createServer((raw) => {
    sockets.add(raw);
    stats.connections++;
    stats.concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
    raw.setNoDelay(true); // scripted answers go out as several writes; Nagle + delayed ACK would add 40 ms each
    raw.on('error', () => {});
    // A connection counts until the client logs out or hangs up, not until this server has finished its own
    // side. Logging out is what makes the count exact: the client waits for the answer to LOGOUT before it
    // opens its next connection, so the next one can never be counted before this one stops counting.
    let open = true;
    const hungUp = () => {
      if (open) {
        open = false;
        stats.concurrent--;
      }
    };
    raw.on('close', () => {
      sockets.delete(raw);
      hungUp();
    });
    if (mode === 'silent') {
      raw.resume();
      return;
    } // read and drop, say nothing; resume() lets the close come through
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: contextFor(mode) });
    socket.on('error', () => socket.destroy());
    socket.on('end', hungUp);
    socket.once('secure', () => {
      const session: Session = {
        socket,
        reader: new SocketReader(socket),
        remoteAddress: raw.remoteAddress ?? '127.0.0.1',
        async send(...lines) {
          if (delayMs > 0) await sleep(delayMs);
          if (!socket.destroyed && socket.writable) socket.write(lines.map((l) => `${l}\r\n`).join(''));
        },
        loggedOut: hungUp,
      };
      opts.session(session).then(
        () => socket.end(),
        () => socket.destroy(),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    stats,
    setMode(m) {
      mode = m;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
