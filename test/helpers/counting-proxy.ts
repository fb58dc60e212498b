// A TCP proxy on loopback that counts the connections passing through it: how many are open now, the most ever
// open at once, and each connection's open/close times. Put one in front of a mail server to see, from outside the
// app, how many connections all of Mailroom's processes together hold (TLS passes through untouched).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedConnection {
  openedAt: number;
  closedAt?: number;
}

export interface CountingProxy {
  port: number;
  /** Connections open right now. */
  open(): number;
  /** The most connections open at the same time since start (or since `resetPeak`). */
  peak(): number;
  resetPeak(): void;
  connections: ProxiedConnection[];
  close(): Promise<void>;
}

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  const connections: ProxiedConnection[] = [];
  let current = 0;
  let peak = 0;
  const server: Server = createServer((client) => {
    const record: ProxiedConnection = { openedAt: Date.now() };
    connections.push(record);
    current++;
    peak = Math.max(peak, current);
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      current--;
      record.closedAt = Date.now();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', done);
    upstream.on('close', done);
    client.on('error', done);
    upstream.on('error', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => current,
    peak: () => peak,
    resetPeak: () => {
      peak = current;
    },
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
