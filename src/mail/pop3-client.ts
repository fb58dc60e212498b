// Minimal POP3 client over node:tls: greeting, AUTH XOAUTH2 or USER/PASS, STAT, UIDL, LIST, RETR, QUIT; bounded.
import tls from 'node:tls';
import { trustOptions } from './tls.ts';

const MAX_LINE = 8 * 1024; // RFC 1939 allows 512 octets per response line; be lenient, but bounded
const MAX_BUFFERED = 64 * 1024;
/** Default bound of one multi-line answer (RETR of a message, a long UIDL): Gmail's 25 MB attachment limit, encoded. */
export const POP3_MAX_MULTILINE = 40 * 1024 * 1024;

export class Pop3Error extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly response?: string,
    readonly oauthError?: unknown,
  ) {
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

/** The data lines of a multi-line answer being read (RFC 1939 §3: dot-stuffed, ended by a lone "."). */
interface Body {
  lines: Buffer[];
  size: number;
  max: number;
  done: Promise<Buffer[]>;
  resolve(lines: Buffer[]): void;
  reject(err: Error): void;
}

export class Pop3Client {
  greeted = false;
  private buf: Buffer = Buffer.alloc(0);
  /** Set by multiline() before its command goes out: the next +OK starts a body. */
  private bodyNext: Body | null = null;
  private body: Body | null = null;
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly lines: Reply[] = [];

  private constructor(private readonly socket: tls.TLSSocket) {
    // Bytes, not text: a message body is not UTF-8 by any promise (8bit, other charsets).
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Pop3Error('The server closed the connection.', 'CONNECTION_CLOSED')));
  }

  /** Resolves once the server's +OK greeting arrived (implicit TLS, like pop.gmail.com:995). */
  static async connect(o: Pop3ConnectOptions, created?: (client: Pop3Client) => void): Promise<Pop3Client> {
    const socket = tls.connect({
      host: o.host,
      port: o.port,
      ...trustOptions(o.ca),
      servername: isIp(o.host) ? undefined : o.host,
    });
    const client = new Pop3Client(socket);
    created?.(client); // lets the caller close a connection that is still coming up
    const timer = setTimeout(
      () => client.fail(new Pop3Error(`No greeting within ${o.timeoutMs} ms.`, 'TIMEOUT')),
      o.timeoutMs,
    );
    try {
      const greeting = await client.read();
      if (greeting.kind !== 'ok')
        throw new Pop3Error('The server refused the connection.', 'POP3_REFUSED', greeting.line);
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

  /** UIDL → each message's number and unique id (stable across sessions, RFC 1939 §7). */
  async uidl(): Promise<{ n: number; uid: string }[]> {
    return (await this.multiline('UIDL')).map((line) => {
      const m = /^(\d+) ([\x21-\x7e]{1,70})$/.exec(line.toString('latin1'));
      if (!m) throw new Pop3Error('Malformed UIDL line.', 'POP3_PROTOCOL', line.toString('latin1').slice(0, 200));
      return { n: Number(m[1]), uid: m[2] as string };
    });
  }

  /** LIST → each message's number and size in octets. */
  async list(): Promise<{ n: number; size: number }[]> {
    return (await this.multiline('LIST')).map((line) => {
      const m = /^(\d+) (\d+)(?: |$)/.exec(line.toString('latin1'));
      if (!m) throw new Pop3Error('Malformed LIST line.', 'POP3_PROTOCOL', line.toString('latin1').slice(0, 200));
      return { n: Number(m[1]), size: Number(m[2]) };
    });
  }

  /** RETR n → the message's bytes with CRLF line ends, dot-unstuffed; bounded by `maxBytes` (then POP3_TOO_LARGE). */
  async retr(n: number, maxBytes = POP3_MAX_MULTILINE): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 1) throw new Pop3Error('A message number is a positive integer.', 'POP3_CLIENT');
    const lines = await this.multiline(`RETR ${n}`, maxBytes);
    return Buffer.concat(lines.flatMap((l) => [l, CRLF]));
  }

  /** Sends a command whose +OK is followed by data lines; returns them without the terminating ".". */
  async multiline(line: string, maxBytes = POP3_MAX_MULTILINE): Promise<Buffer[]> {
    if (this.bodyNext || this.body) throw new Pop3Error('One multi-line command at a time.', 'POP3_CLIENT');
    let resolve!: (lines: Buffer[]) => void;
    let reject!: (err: Error) => void;
    const done = new Promise<Buffer[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // observed below; a failure before the +OK must not surface as unhandled
    this.bodyNext = { lines: [], size: 0, max: maxBytes, done, resolve, reject };
    try {
      await this.command(line);
    } catch (err) {
      this.bodyNext = null;
      throw err;
    }
    return done;
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.close();
    }
  }

  close(): void {
    this.socket.destroy();
  }

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

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let nl: number;
    while ((nl = this.buf.indexOf(0x0a)) >= 0) {
      const raw = this.buf.subarray(0, nl > 0 && this.buf[nl - 1] === 0x0d ? nl - 1 : nl);
      this.buf = this.buf.subarray(nl + 1);
      if (this.body) {
        this.onBodyLine(this.body, raw);
        if (this.failure) return;
        continue;
      }
      if (raw.length > MAX_LINE) return this.fail(new Pop3Error('Response line too long.', 'POP3_PROTOCOL'));
      const line = raw.toString('utf8');
      const reply = parseReply(line);
      if (!reply) return this.fail(protocolError(line));
      if (this.bodyNext) {
        if (reply.kind === 'ok') this.body = this.bodyNext;
        if (reply.kind !== 'cont') this.bodyNext = null;
      }
      this.deliver(reply);
    }
    const limit = this.body ? this.body.max - this.body.size : MAX_LINE;
    if (this.buf.length > Math.max(limit, MAX_LINE)) {
      if (this.body) this.fail(tooLarge(this.body.max));
      else
        this.fail(
          new Pop3Error(
            this.buf.length > MAX_BUFFERED ? 'The server sent too much data.' : 'Response line too long.',
            'POP3_PROTOCOL',
          ),
        );
    }
  }

  private onBodyLine(body: Body, raw: Buffer): void {
    if (raw.length === 1 && raw[0] === 0x2e) {
      this.body = null;
      return body.resolve(body.lines);
    }
    const line = raw[0] === 0x2e ? raw.subarray(1) : raw; // dot-unstuffing
    body.size += line.length + 2;
    if (body.size > body.max) return this.fail(tooLarge(body.max));
    body.lines.push(Buffer.from(line)); // a copy: the subarray would pin the whole chunk
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
    (this.body ?? this.bodyNext)?.reject(err);
    this.body = this.bodyNext = null;
    this.socket.destroy();
  }
}

function parseReply(line: string): Reply | null {
  if (line === '+OK' || line.startsWith('+OK ')) return { kind: 'ok', text: line.slice(4), line };
  if (line === '-ERR' || line.startsWith('-ERR ')) return { kind: 'err', text: line.slice(5), line };
  if (line === '+' || line.startsWith('+ ')) return { kind: 'cont', text: line.slice(2), line };
  return null;
}

const CRLF = Buffer.from('\r\n');
const tooLarge = (max: number) => new Pop3Error(`The answer is larger than ${max} bytes.`, 'POP3_TOO_LARGE');

const protocolError = (line: string) => new Pop3Error('Unexpected answer from the POP3 server.', 'POP3_PROTOCOL', line);

function parseChallenge(b64: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64.trim(), 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

const isIp = (host: string) => /^[\d.]+$|:/.test(host);
