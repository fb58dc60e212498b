// Pure checks on what Google returned before anything is stored: a verified address, the expected account,
// and the Gmail scope actually granted (the consent screen lets users untick it).
import { hasMailScope, MAIL_SCOPE, type Userinfo } from './google-client.ts';

export type AccountProblem = {
  code: 'unverified' | 'wrong-account' | 'no-mail-scope';
  message: string;
  googleEmail?: string;
};

export function checkGoogleAccount(
  got: { scope: string; userinfo: Userinfo },
  expectedEmail?: string,
): AccountProblem | null {
  const email = got.userinfo.email?.toLowerCase();
  if (!email || got.userinfo.email_verified !== true) {
    return {
      code: 'unverified',
      googleEmail: email,
      message:
        'Google did not confirm a verified email address for the account you signed in with, so Mailroom cannot tell which mailbox it belongs to.',
    };
  }
  if (expectedEmail && email !== expectedEmail.toLowerCase()) {
    return {
      code: 'wrong-account',
      googleEmail: email,
      message: `You signed in to Google as ${email}, but this mailbox is ${expectedEmail}. Sign in again and choose the Google account ${expectedEmail}.`,
    };
  }
  if (!hasMailScope(got.scope)) {
    return {
      code: 'no-mail-scope',
      googleEmail: email,
      message: `Google did not grant access to Gmail (${MAIL_SCOPE}). Sign in again and, on Google's consent screen, allow Mailroom to read, compose, send and delete email in Gmail.`,
    };
  }
  return null;
}
