// Starts the IMAP, POP3 and SMTP fakes together around one token map and account map, for tests of the probes and jobs.
import net from 'node:net';
import { startImapServer, type FakeImapServer } from './imap-server.ts';
import { startPop3Server, type FakePop3Server } from './pop3-server.ts';
import { startSmtpServer, type FakeSmtpServer } from './smtp-server.ts';
import { makeTestCa } from './tls.ts';
import type { MailAccountBehaviour, VerifyBearer } from './world.ts';

export interface MailWorld {
  ca: string;
  /** access token → Google account email; a token missing here is rejected like a revoked/expired one. */
  tokens: Map<string, string>;
  accounts: Map<string, MailAccountBehaviour>;
  imap: FakeImapServer;
  pop3: FakePop3Server;
  smtp: FakeSmtpServer;
  close(): Promise<void>;
}

/**
 * By default bearer tokens are checked against `tokens`; pass `verifyBearer` (e.g.
 * `bearerVerifierFrom(google.verifyAccessToken)`) to let the Google fake decide instead.
 */
export async function startMailWorld(
  opts: { maxConnectionsPerUser?: number; verifyBearer?: VerifyBearer } = {},
): Promise<MailWorld> {
  const tokens = new Map<string, string>();
  const accounts = new Map<string, MailAccountBehaviour>();
  const verifyBearer =
    opts.verifyBearer ?? ((user: string, token: string) => tokens.get(token)?.toLowerCase() === user.toLowerCase());
  const base = { verifyBearer, accounts, maxConnectionsPerUser: opts.maxConnectionsPerUser };
  const [imap, pop3, smtp] = await Promise.all([startImapServer(base), startPop3Server(base), startSmtpServer(base)]);
  return {
    ca: makeTestCa().caPem,
    tokens,
    accounts,
    imap,
    pop3,
    smtp,
    async close() {
      await Promise.all([imap.close(), pop3.close(), smtp.close()]);
    },
  };
}

/** A loopback port with nothing listening on it (for CONNECTION_REFUSED). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
