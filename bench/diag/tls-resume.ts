// Diagnostic (decision 038): CPU of one TLS connection (client and server in this process, the mail fakes' EC P-256
// certificate) with a full handshake and with a resumed TLS 1.3 session. `[TLS_SERVER=1] npx tsx bench/diag/tls-resume.ts`
import net from 'node:net';
import tls from 'node:tls';
import { makeTestCa } from '../../test/fakes/mail/tls.ts';
import { trustOptions } from '../../src/mail/tls.ts';
const ca = makeTestCa();
const sctx = tls.createSecureContext({ cert: ca.certPem, key: ca.keyPem });
const useTlsServer = process.env.TLS_SERVER === '1';
const onSecure = (s: tls.TLSSocket) => {
  s.write('* OK hi\r\n');
};
const server = useTlsServer
  ? tls.createServer({ cert: ca.certPem, key: ca.keyPem }, (s) => {
      onSecure(s);
      s.on('data', () => s.end());
      s.on('error', () => {});
    })
  : net.createServer((raw) => {
      const s = new tls.TLSSocket(raw, { isServer: true, secureContext: sctx });
      s.on('secure', () => onSecure(s));
      s.on('data', () => s.end());
      s.on('error', () => {});
    });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
const opts = trustOptions(ca.caPem);
async function once(session?: Buffer): Promise<{ session?: Buffer; reused: boolean }> {
  return new Promise((resolve, reject) => {
    let sess: Buffer | undefined;
    let reused = false;
    const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts, session });
    c.on('session', (b) => {
      sess = b;
    });
    c.on('error', reject);
    c.on('secureConnect', () => {
      reused = c.isSessionReused();
    });
    c.once('data', () => {
      c.write('x\r\n');
    });
    c.on('close', () => resolve({ session: sess, reused }));
  });
}
for (const mode of ['full', 'resumed', 'full', 'resumed']) {
  let s = (await once()).session;
  const n = 300;
  let reused = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await once(mode === 'resumed' ? s : undefined);
    if (r.reused) reused++;
    if (r.session) s = r.session;
  }
  const c = process.cpuUsage(t0);
  console.log(
    mode,
    'had session',
    !!s,
    'cpu ms per connection (client+server):',
    ((c.user + c.system) / 1000 / n).toFixed(2),
    'reused',
    reused,
    'wall/conn',
    ((performance.now() - w0) / n).toFixed(1),
  );
}
server.close();
