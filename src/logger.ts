// Structured logs (pino) with one redaction list: no header, cookie, password, token or secret is ever written.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  '*.authorization', '*.cookie', '*.password', '*.newPassword', '*.token', '*.accessToken', '*.refreshToken',
  '*.access_token', '*.refresh_token', '*.id_token', '*.code', '*.code_verifier', '*.clientSecret', '*.oauthClientSecret',
  '*.client_secret', '*.secret', '*._csrf', 'password', 'token', 'accessToken', 'refreshToken', 'secret', 'clientSecret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'mailroom' } }, destination);
}

export type { Logger };
