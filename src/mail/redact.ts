// Makes remote text safe to store and show: strips anything token-like and caps the length.
const BASE64_RUN = /[A-Za-z0-9+/]{16,}={0,2}/g;

function decodesToCredentials(run: string): boolean {
  const text = Buffer.from(run, 'base64').toString('latin1');
  // XOAUTH2 / OAUTHBEARER carry "auth=Bearer"; SASL PLAIN separates user and password with NUL.
  return /auth=bearer|user=|\bn,a=/i.test(text) || /^[\x20-\x7e]*\x00[\x20-\x7e]+\x00[\x20-\x7e]*$/.test(text);
}

/** Removes access/refresh tokens, bearer values, SASL payloads and any of the given secrets (also base64-encoded). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, Buffer.from(secret).toString('base64')]) out = out.split(form).join('[redacted]');
  }
  return out
    .replace(/ya29\.[\w.-]+/g, 'ya29.[redacted]')
    .replace(/\b1\/\/[\w.-]{10,}/g, '[redacted]')
    .replace(/eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+/g, '[redacted]')
    .replace(/\b(bearer)\s+[^\s"',;\x01]+/gi, '$1 [redacted]')
    .replace(
      /\b(access_token|refresh_token|id_token|client_secret|accessToken|refreshToken|password|pass)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi,
      '$1$2[redacted]',
    )
    .replace(BASE64_RUN, (run) => (decodesToCredentials(run) ? '[redacted]' : run));
}

/** Normalises line breaks, drops control characters and caps the text at `max` characters. */
export function truncate(text: string, max = 512): string {
  const clean = text
    .replace(/\r\n?/g, '\n')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ')
    .trim();
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 1))}…`;
}

/** What a step may say about a remote answer: redacted first (so a cut never hides half a token), then capped. */
export function safeRemoteText(text: string, secrets: readonly string[] = []): string {
  return truncate(redact(text, secrets), 512);
}
