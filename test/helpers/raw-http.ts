// Raw HTTP/1.1 over a socket, for requests fetch() refuses to send: asterisk-form targets, odd methods, NULs and
// malformed header lines. One request per connection (Connection: close); the answer is parsed minimally.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** Sends `request` (a full request, CRLFs included) to the server at `url` and reads until the server closes. */
export function rawRequest(url: string, request: string | Buffer, timeoutMs = 60_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request)); // no half-close: the server may drop a half-closed socket before it answers
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      let body = end < 0 ? '' : text.slice(end + 4);
      if (/^transfer-encoding:\s*chunked/im.test(head)) body = unchunk(body);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: Buffer.from(body, 'latin1').toString('utf8') });
    });
  });
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}
