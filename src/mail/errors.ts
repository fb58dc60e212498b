// The one place that maps Gmail's answers and Node's network errors to a failure code, a hint and retry advice.
import { failure, type Failure, type FailureCode } from './hints.ts';
import { redact, safeRemoteText, truncate } from './redact.ts';
import type { ProtocolId } from './protocol.ts';

export { failure, redact, safeRemoteText, truncate, type Failure, type FailureCode };

export interface MappedFailure extends Failure {
  message: string;
}

const TEXT_RULES: [RegExp, FailureCode][] = [
  [/not enabled for IMAP/i, 'IMAP_DISABLED'],
  [/not enabled for POP/i, 'POP_DISABLED'],
  [
    /disabled for your domain|contact your domain administrator|disabled by your (?:domain )?administrator/i,
    'ADMIN_POLICY',
  ],
  [/too many simultaneous|too many connections|\[LIMIT\]/i, 'TOO_MANY_CONNECTIONS'],
  // Gmail's temporary refusals (IMAP NO [UNAVAILABLE] "Temporary authentication failure", POP3 -ERR [SYS/TEMP],
  // [IN-USE]): nothing was rejected, so they are retried — before the sign-in rule below can read them as a refusal.
  [
    /\[UNAVAILABLE\]|\[SYS\/TEMP\]|\[IN-USE\]|temporary (?:authentication|system) (?:failure|problem|error)/i,
    'SERVER_TEMPORARY',
  ],
  [
    /\[AUTHENTICATIONFAILED\]|invalid credentials|username and password not accepted|BadCredentials|application-specific password required|log in via your web browser|^-ERR \[AUTH\]/im,
    'AUTH_FAILED',
  ],
];

const NODE_CODES: Record<string, FailureCode> = {
  ECONNREFUSED: 'CONNECTION_REFUSED',
  EHOSTUNREACH: 'CONNECTION_REFUSED',
  ENETUNREACH: 'CONNECTION_REFUSED',
  ECONNRESET: 'CONNECTION_RESET',
  EPIPE: 'CONNECTION_RESET',
  ECONNABORTED: 'CONNECTION_RESET',
  // imapflow's and the POP3 client's names for "the server hung up"
  EConnectionClosed: 'CONNECTION_RESET',
  NoConnection: 'CONNECTION_RESET',
  ClosedAfterConnectTLS: 'CONNECTION_RESET',
  ClosedAfterConnectText: 'CONNECTION_RESET',
  CONNECTION_CLOSED: 'CONNECTION_RESET',
  ENOTFOUND: 'DNS',
  EAI_AGAIN: 'DNS',
  EAI_FAIL: 'DNS',
  EAI_NONAME: 'DNS',
  ETIMEDOUT: 'TIMEOUT',
  ETIMEOUT: 'TIMEOUT',
  CONNECT_TIMEOUT: 'TIMEOUT',
  GREETING_TIMEOUT: 'TIMEOUT',
  UPGRADE_TIMEOUT: 'TIMEOUT',
  TIMEOUT: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  ABORT_ERR: 'CANCELLED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS_CERT',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS_CERT',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS_CERT',
  UNABLE_TO_GET_ISSUER_CERT: 'TLS_CERT',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS_CERT',
  CERT_HAS_EXPIRED: 'TLS_CERT',
  CERT_NOT_YET_VALID: 'TLS_CERT',
  CERT_UNTRUSTED: 'TLS_CERT',
  CERT_REJECTED: 'TLS_CERT',
  CERT_SIGNATURE_FAILURE: 'TLS_CERT',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS_CERT',
  HOSTNAME_MISMATCH: 'TLS_CERT',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS_HANDSHAKE',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS_HANDSHAKE',
  ERR_SSL_UNKNOWN_PROTOCOL: 'TLS_HANDSHAKE',
  TLS_REQUIRED: 'TLS_REQUIRED',
  EAUTH: 'AUTH_FAILED',
};

/** Gmail's answer text (IMAP tagged NO, POP3 -ERR, SMTP reply) → code, if it says anything we know. */
export function classifyServerText(text: string): FailureCode | undefined {
  return TEXT_RULES.find(([re]) => re.test(text))?.[1];
}

/** The XOAUTH2 / OAUTHBEARER challenge, as base64 or parsed JSON: {"status":"400"|"401"|"insufficient_scope",…}. */
export function classifyOAuthChallenge(challenge: unknown): FailureCode | undefined {
  let value = challenge;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== 'object') return undefined;
  const status = String((value as { status?: unknown }).status ?? '');
  if (/^403$|insufficient_scope/i.test(status)) return 'MISSING_SCOPE';
  if (/^40[01]$|invalid_token|invalid_request/i.test(status)) return 'AUTH_FAILED';
  return undefined;
}

/** Google's token endpoint `error` when refreshing: invalid_grant is a revoked or expired refresh token. */
export function classifyTokenError(error: string): FailureCode {
  switch (error) {
    case 'invalid_grant':
      return 'TOKEN_REVOKED';
    case 'invalid_scope':
      return 'MISSING_SCOPE';
    case 'invalid_client':
    case 'unauthorized_client':
      return 'OAUTH_CLIENT';
    default:
      return 'UNKNOWN';
  }
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; originalCode?: unknown; name?: unknown; cause?: unknown };
    for (const c of [e.originalCode, e.code]) if (typeof c === 'string') codes.push(c);
    if (e.name === 'AbortError') codes.push('ABORT_ERR');
    current = e.cause;
  }
  return codes;
}

/** Any error a probe caught → code, hint, transient and a safe message (redacted, ≤ 512 chars). */
export interface MapContext {
  protocol?: ProtocolId;
  auth?: 'xoauth2' | 'password';
  secrets?: readonly string[];
}

export function mapError(err: unknown, ctx: MapContext = {}): MappedFailure {
  const e = (err && typeof err === 'object' ? err : {}) as Record<string, unknown>;
  const response = typeof e.response === 'string' ? e.response.replace(/^\S+ (?=(?:NO|BAD) )/, '') : '';
  const message = response || (typeof e.message === 'string' && e.message) || String(err);
  const done = (code: FailureCode): MappedFailure => ({
    ...failure(code, ctx.auth),
    message: safeRemoteText(message, ctx.secrets),
  });

  const smtpCode = typeof e.responseCode === 'number' ? e.responseCode : Number(/^\d{3}/.exec(response)?.[0] ?? 0);
  if (ctx.protocol === 'smtp' && smtpCode >= 400 && smtpCode < 500) return done('SMTP_TEMPORARY');

  if (classifyOAuthChallenge(e.oauthError) === 'MISSING_SCOPE') return done('MISSING_SCOPE');
  const fromText = response ? classifyServerText(response) : undefined;
  if (fromText) return done(fromText);

  const fromCode = errorCodes(err)
    .map((c) => NODE_CODES[c])
    .find((c) => c !== undefined);
  if (fromCode && fromCode !== 'AUTH_FAILED') return done(fromCode);

  const fromMessage = classifyServerText(message);
  if (fromMessage) return done(fromMessage);
  if (e.authenticationFailed === true || fromCode === 'AUTH_FAILED' || classifyOAuthChallenge(e.oauthError))
    return done('AUTH_FAILED');
  if (/certificate|self[- ]signed/i.test(message)) return done('TLS_CERT');
  if (/timed? ?out|timeout/i.test(message)) return done('TIMEOUT');
  return done('UNKNOWN');
}
