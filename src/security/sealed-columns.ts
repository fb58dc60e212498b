// Where each sealed field of secrets.ts lives in the database, for the key rotation (rotate.ts). Typed by SEALED's keys,
// so a new sealed field that is not given its column here does not compile.
import { SEALED } from './secrets.ts';

export interface SealedColumn {
  /** SEALED's context: the authenticated data the value is bound to. */
  context: string;
  table: string;
  column: string;
  /** The row's unique key column (keyset paging and the compare-and-set update). */
  key: string;
  /** Extra condition on the rows (a Setting holds one sealed value among plain ones), trusted SQL. */
  where?: string;
}

export const SEALED_COLUMNS: Record<keyof typeof SEALED, SealedColumn> = {
  profileClientSecret: {
    context: SEALED.profileClientSecret,
    table: 'EmailServerProfile',
    column: 'oauthClientSecret',
    key: 'id',
  },
  mailboxPassword: { context: SEALED.mailboxPassword, table: 'Mailbox', column: 'credentialPassword', key: 'id' },
  grantAccessToken: { context: SEALED.grantAccessToken, table: 'GmailGrant', column: 'accessToken', key: 'id' },
  grantRefreshToken: { context: SEALED.grantRefreshToken, table: 'GmailGrant', column: 'refreshToken', key: 'id' },
  setupToken: {
    context: SEALED.setupToken,
    table: 'Setting',
    column: 'value',
    key: 'key',
    where: `"key" = 'setup_token'`,
  },
};
