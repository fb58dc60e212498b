// A worker process for the multi-process cluster tests: joins the cluster on DATABASE_URL and either owns mailboxes
// (CHILD_MODE=own: prints a JSON line per session start/stop) or opens connections to a counting server under the
// shared semaphore (CHILD_MODE=sem). Stops gracefully on SIGTERM.
import { connect } from 'node:net';
import { postgresDatabase } from '../../src/db/client.ts';
import { startCluster } from '../../src/cluster/start.ts';

const mode = process.env.CHILD_MODE;
const db = postgresDatabase(process.env.DATABASE_URL!, 4);
const timing = process.env.TIMING
  ? (JSON.parse(process.env.TIMING) as { heartbeatMs: number; deadAfterMs: number })
  : undefined;
const cluster = await startCluster(db, { role: 'worker', timing });
const say = (o: object) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: Date.now(), ...o })}\n`);

async function stop(): Promise<void> {
  await cluster.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => {
  void stop();
});

if (mode === 'own') {
  await cluster.own({
    start: (id) => say({ ev: 'start', id }),
    stop: async (id, reason) => {
      await new Promise((r) => setTimeout(r, 20));
      say({ ev: 'stop', id, reason });
    },
  });
  say({ ev: 'ready', processId: cluster.registration.id });
} else if (mode === 'sem') {
  // Hold a connection to the counting server while holding a permit; give the permit back only after the server
  // has seen the connection close, so the server's count is the number of permits in use.
  const port = Number(process.env.SERVER_PORT);
  const rounds = Number(process.env.ROUNDS ?? 10);
  const hold = () =>
    new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => setTimeout(() => s.write('bye\n'), 10 + Math.random() * 40));
      s.on('error', reject);
      s.on('close', () => resolve());
    });
  const loop = async () => {
    for (let i = 0; i < rounds; i++)
      await cluster.semaphore.run([{ key: 'profile:shared', limit: 2 }], { purpose: 'test' }, hold);
  };
  await Promise.all([loop(), loop(), loop()]);
  say({ ev: 'done' });
  await stop();
}
