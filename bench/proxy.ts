// Delaying TCP proxy on node:net: every chunk, in both directions, reaches the other side delayMs later (order kept).
import net from 'node:net';

export interface DelayProxy {
  port: number;
  target: { host: string; port: number };
  delayMs: number;
  connections(): number;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> to target, holding each chunk delayMs (one-way), so a round trip costs 2 × delayMs. */
export async function startDelayProxy(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  let total = 0;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  /** Copies from → to, each chunk (and the final FIN) delayed. Timers with equal delay fire in order. */
  function pipeDelayed(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (delayMs <= 0) {
        to.write(chunk);
        return;
      }
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, delayMs);
    });
    from.on('end', () => {
      if (delayMs <= 0) {
        to.end();
        return;
      }
      setTimeout(() => {
        if (!to.destroyed) to.end();
      }, delayMs);
    });
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    total++;
    track(client);
    client.setNoDelay(true);
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    track(upstream);
    upstream.setNoDelay(true);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => setTimeout(() => upstream.destroy(), delayMs + 5));
    upstream.on('close', () => setTimeout(() => client.destroy(), delayMs + 5));
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    target,
    delayMs,
    connections: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
