// The one place secrets are sealed and opened: AES-256-GCM, a fresh 96-bit IV per write, and a versioned
// output "v1.<keyId>.<iv>.<tag>.<ciphertext>" (base64url) whose key id lets old keys keep opening old values.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class SecretError extends Error {}

export interface Sealer {
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
  keyId: string;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/**
 * Every sealed field, with the context its ciphertext is bound to (authenticated data), so a sealed value
 * copied into another field does not open. Nothing else in the schema holds a secret.
 */
export const SEALED = {
  profileClientSecret: 'profile.oauthClientSecret', // EmailServerProfile.oauthClientSecret
  mailboxPassword: 'mailbox.credentialPassword', // Mailbox.credentialPassword
  grantAccessToken: 'grant.accessToken', // GmailGrant.accessToken
  grantRefreshToken: 'grant.refreshToken', // GmailGrant.refreshToken
  setupToken: 'setting.setupToken', // Setting "setup_token" (first-run link, until the first admin exists)
} as const;

export function createSealer(current: Buffer, old: Buffer[] = []): Sealer {
  if (current.length !== 32) throw new SecretError('The secrets key must be 32 bytes');
  const keys = new Map([current, ...old].map((k) => [keyIdOf(k), k]));
  const currentId = keyIdOf(current);
  return {
    keyId: currentId,
    seal(plaintext, context = '') {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(`v1.${currentId}.${context}`));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        'v1',
        currentId,
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        ct.toString('base64url'),
      ].join('.');
    },
    open(sealed, context = '') {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new SecretError('Not a sealed value (unknown format)');
      const [, id, iv, tag, ct] = parts;
      const key = keys.get(id);
      if (!key) throw new SecretError(`Sealed with a key that is not configured (key id ${id})`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(`v1.${id}.${context}`));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretError('Sealed value failed authentication (tampered, or wrong key)');
      }
    },
  };
}
