// The whole Gmail world for tests, sandbox and benchmarks: the Google fake plus IMAP/POP3/SMTP fakes that
// check bearer tokens against it, and factories for profiles, mailboxes and grants that use them.
import { SEALED } from '../../src/security/secrets.ts';
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Sealer } from '../../src/security/secrets.ts';
import { startFakeGoogle, googleEnvOf, type FakeGoogle } from '../fakes/google.ts';
import { startMailWorld, type MailWorld } from '../fakes/mail/fixture.ts';
import { bearerVerifierFrom } from '../fakes/mail/world.ts';

export interface GmailWorld {
  google: FakeGoogle;
  mail: MailWorld;
  clientId: string;
  clientSecret: string;
  googleEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startGmailWorld(): Promise<GmailWorld> {
  const google = await startFakeGoogle();
  const mail = await startMailWorld({ verifyBearer: bearerVerifierFrom((t) => google.verifyAccessToken(t)) });
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  google.addClient({ clientId, clientSecret, redirectUris: [] });
  const googleEnv = googleEnvOf(google);
  return {
    google,
    mail,
    clientId,
    clientSecret,
    googleEnv,
    close: async () => {
      await mail.close();
      await google.close();
    },
  };
}

export async function createGmailProfile(
  prisma: PrismaClient,
  sealer: Sealer,
  w: GmailWorld,
  o: { name?: string; serverType?: 'IMAP' | 'POP3'; smtp?: 'STARTTLS' | 'SSL'; maxConcurrentConnections?: number } = {},
) {
  const smtp = o.smtp ?? 'STARTTLS';
  return prisma.emailServerProfile.create({
    data: {
      name: o.name ?? `Gmail ${randomBytes(3).toString('hex')}`,
      serverType: o.serverType ?? 'IMAP',
      incomingServer: '127.0.0.1',
      incomingPort: o.serverType === 'POP3' ? w.mail.pop3.port : w.mail.imap.port,
      incomingUseSsl: true,
      outgoingServer: '127.0.0.1',
      outgoingPort: smtp === 'SSL' ? w.mail.smtp.implicitTlsPort : w.mail.smtp.starttlsPort,
      outgoingSecurity: smtp,
      authenticateUsing: 'GMAIL_OAUTH',
      oauthClientId: w.clientId,
      oauthClientSecret: sealer.seal(w.clientSecret, SEALED.profileClientSecret),
      maxConcurrentConnections: o.maxConcurrentConnections ?? 50,
    },
  });
}

/** A mailbox owned by ownerId with a Google account in the fakes and a real grant minted by the Google fake. */
export async function createConnectedMailbox(
  prisma: PrismaClient,
  sealer: Sealer,
  w: GmailWorld,
  o: {
    ownerId: string;
    profileId: string;
    email?: string;
    approved?: boolean;
    expired?: boolean;
    incoming?: boolean;
    outgoing?: boolean;
  },
) {
  const email = (o.email ?? `mb-${randomBytes(4).toString('hex')}@gmail.test`).toLowerCase();
  w.google.addAccount({ email });
  w.mail.accounts.set(email, {});
  const t = w.google.issueTokensFor(email, w.clientId);
  return prisma.mailbox.create({
    data: {
      name: email,
      emailAddress: email,
      ownerId: o.ownerId,
      profileId: o.profileId,
      emailApproval: o.approved === false ? 'PENDING' : 'APPROVED',
      incomingEmail: o.incoming === false ? 'NONE' : 'SERVER_SIDE_SYNC',
      outgoingEmail: o.outgoing === false ? 'NONE' : 'SERVER_SIDE_SYNC',
      grant: {
        create: {
          googleEmail: email,
          grantedScopes: 'openid email https://mail.google.com/',
          accessToken: sealer.seal(t.access_token, SEALED.grantAccessToken),
          refreshToken: sealer.seal(t.refresh_token, SEALED.grantRefreshToken),
          accessTokenExpiresAt: new Date(Date.now() + (o.expired ? -1000 : t.expires_in * 1000)),
        },
      },
    },
  });
}
