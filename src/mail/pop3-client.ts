// Minimal POP3 client over node:tls for the probes: greeting, AUTH XOAUTH2 or USER/PASS, STAT, QUIT, strictly bounded.
import tls from 'node:tls';
import { trustOptions } from './tls.ts';

const MAX_LINE = 8 * 1024; // RFC 1939 allows 512 octets per response line; be lenient, but bounded
const MAX_BUFFERED = 64 * 1024;

export class Pop3Error extends Error {
  constructor(message: string, readonly code: string, readonly response?: string, readonly oauthError?: unknown) {
    super(message);
  }
}

export interface Pop3ConnectOptions {
  host: string;
  port: number;
  ca?: string | Buffer;
  timeoutMs: number; // TCP + TLS + greeting
}

/** One response line: +OK / -ERR / "+ " continuation (only while authenticating). */
type Reply = { kind: 'ok' | 'err' | 'cont'; text: string; line: string };

export class Pop3Client {
  greeted = false;
  private buf = '';
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly lines: Reply[] = [];

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Pop3Error('The server closed the connection.', 'CONNECTION_CLOSED')));
  }

  /** Resolves once the server's +OK greeting arrived (implicit TLS, like pop.gmail.com:995). */
  static async connect(o: Pop3ConnectOptions, created?: (client: Pop3Client) => void): Promise<Pop3Client> {
    const socket = tls.connect({ host: o.host, port: o.port, ...trustOptions(o.ca), servername: isIp(o.host) ? undefined : o.host });
    const client = new Pop3Client(socket);
    created?.(client); // lets the caller close a connection that is still coming up
    const timer = setTimeout(() => client.fail(new Pop3Error(`No greeting within ${o.timeoutMs} ms.`, 'TIMEOUT')), o.timeoutMs);
    try {
      const greeting = await client.read();
      if (greeting.kind !== 'ok') throw new Pop3Error('The server refused the connection.', 'POP3_REFUSED', greeting.line);
      client.greeted = true;
      return client;
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SASL XOAUTH2 with the initial response on the AUTH line; Gmail answers a bad token with a "+ <json>" challenge. */
  async authXoauth2(user: string, accessToken: string): Promise<string> {
    const payload = Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`).toString('base64');
    this.write(`AUTH XOAUTH2 ${payload}`);
    let reply = await this.read(true);
    let oauthError: unknown;
    if (reply.kind === 'cont') {
      oauthError = parseChallenge(reply.text);
      this.write(''); // an empty response ends the exchange; the server then says -ERR
      reply = await this.read();
    }
    if (reply.kind !== 'ok') throw new Pop3Error('Authentication failed.', 'POP3_AUTH', reply.line, oauthError);
    return reply.line;
  }

  async login(user: string, password: string): Promise<string> {
    await this.command(`USER ${user}`);
    return this.command(`PASS ${password}`);
  }

  /** STAT → message count and size in octets. */
  async stat(): Promise<{ count: number; size: number }> {
    const line = await this.command('STAT');
    const m = /^\+OK (\d+) (\d+)(?: |$)/.exec(line);
    if (!m) throw new Pop3Error('Malformed STAT answer.', 'POP3_PROTOCOL', line);
    return { count: Number(m[1]), size: Number(m[2]) };
  }

  async quit(): Promise<void> {
    try { await this.command('QUIT'); } finally { this.close(); }
  }

  close(): void { this.socket.destroy(); }

  /** Sends one command and returns its +OK line; -ERR becomes a Pop3Error carrying the server's line. */
  async command(line: string): Promise<string> {
    this.write(line);
    const reply = await this.read();
    if (reply.kind !== 'ok') throw new Pop3Error(`${line.split(' ')[0]} failed.`, 'POP3_ERR', reply.line);
    return reply.line;
  }

  private write(line: string): void {
    if (/[\r\n]/.test(line)) throw new Pop3Error('Line breaks are not allowed in a command.', 'POP3_CLIENT');
    if (this.failure) throw this.failure;
    this.socket.write(`${line}\r\n`);
  }

  private read(allowContinuation = false): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const next = this.lines.shift();
      if (next) return next.kind === 'cont' && !allowContinuation ? reject(protocolError(next.line)) : resolve(next);
      if (this.failure) return reject(this.failure);
      this.waiter = {
        resolve: (r) => (r.kind === 'cont' && !allowContinuation ? reject(protocolError(r.line)) : resolve(r)),
        reject,
      };
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > MAX_BUFFERED) return this.fail(new Pop3Error('The server sent too much data.', 'POP3_PROTOCOL'));
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (line.length > MAX_LINE) return this.fail(new Pop3Error('Response line too long.', 'POP3_PROTOCOL'));
      const reply = parseReply(line);
      if (!reply) return this.fail(protocolError(line));
      this.deliver(reply);
    }
    if (this.buf.length > MAX_LINE) this.fail(new Pop3Error('Response line too long.', 'POP3_PROTOCOL'));
  }

  private deliver(reply: Reply): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w.resolve(reply);
    else this.lines.push(reply);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
    this.socket.destroy();
  }
}

function parseReply(line: string): Reply | null {
  if (line === '+OK' || line.startsWith('+OK ')) return { kind: 'ok', text: line.slice(4), line };
  if (line === '-ERR' || line.startsWith('-ERR ')) return { kind: 'err', text: line.slice(5), line };
  if (line === '+' || line.startsWith('+ ')) return { kind: 'cont', text: line.slice(2), line };
  return null;
}

const protocolError = (line: string) => new Pop3Error('Unexpected answer from the POP3 server.', 'POP3_PROTOCOL', line);

function parseChallenge(b64: string): unknown {
  try { return JSON.parse(Buffer.from(b64.trim(), 'base64').toString('utf8')); } catch { return undefined; }
}

const isIp = (host: string) => /^[\d.]+$|:/.test(host);
