// The credentials provider of "Credentials Specified by a User or Queue": the mailbox's own User Name and sealed
// Password, read with the caller's query. There is no token, so its token check is reported as not used.
import { SEALED, type Sealer } from '../security/secrets.ts';
import type { CredentialProvider, CredentialResult } from './credentials.ts';

const NO_TOKEN = {
  check: 'token',
  status: 'skip',
  message: 'Not used: the profile uses credentials specified by the user.',
} as const;

export function mailboxCredentialsProvider(deps: { sealer: Sealer }): CredentialProvider {
  return {
    labels: { token: 'Access token', account: 'Credentials' },
    profileProblem: () => null,
    async credentials(mb): Promise<CredentialResult> {
      if (!mb.credentialUsername || !mb.credentialPassword) {
        return {
          ok: false,
          passed: [NO_TOKEN],
          failure: {
            check: 'account',
            code: 'CREDENTIALS_MISSING',
            transient: false,
            message: 'The mailbox has no user name or password.',
            hint: 'Edit the mailbox and enter its User Name and Password, then select Test & Enable Mailbox.',
          },
        };
      }
      let password: string;
      try {
        password = deps.sealer.open(mb.credentialPassword, SEALED.mailboxPassword);
      } catch {
        return {
          ok: false,
          passed: [NO_TOKEN],
          failure: {
            check: 'account',
            code: 'SECRET_UNREADABLE',
            transient: false,
            message: 'The stored password cannot be read with the current key.',
            hint: 'Edit the mailbox and enter its Password again.',
          },
        };
      }
      return {
        ok: true,
        auth: { kind: 'password', user: mb.credentialUsername, password },
        passed: [NO_TOKEN, { check: 'account', status: 'ok', message: `User name ${mb.credentialUsername}` }],
      };
    },
    // The user name and password are mailbox columns: the mailbox's own save clears them.
    release: async () => null,
  };
}
