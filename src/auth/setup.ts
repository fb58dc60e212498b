// First run: with no users, start-up prints a one-time URL whose token lets one person create the first admin. The
// token is one per database: the first process to store it wins (insert-if-absent), and every process that starts
// before the first admin exists opens the same stored token and prints the same link. Sealed, so only the processes
// holding SECRETS_KEY can print it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { SEALED, type Sealer } from '../security/secrets.ts';

export const SETUP_TOKEN_KEY = 'setup_token';
/** Where versions before the sealed token kept its hash; cleared with the token. */
const LEGACY_KEY = 'setup_token_sha256';
const sha = (t: string) => createHash('sha256').update(t).digest();

type Settings = Pick<PrismaClient, 'setting'>;

/** The database's setup token: the stored one, or a new one if none is stored (or it no longer opens). */
export async function issueSetupToken(prisma: Settings, sealer: Sealer): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await prisma.setting.findUnique({ where: { key: SETUP_TOKEN_KEY } });
    if (row) {
      try {
        return sealer.open(row.value, SEALED.setupToken);
      } catch {
        // Sealed with a key this process does not have (keys changed before setup finished): replace that one only.
        await prisma.setting.deleteMany({ where: { key: SETUP_TOKEN_KEY, value: row.value } });
        continue;
      }
    }
    const token = randomBytes(24).toString('base64url');
    const { count } = await prisma.setting.createMany({
      data: [{ key: SETUP_TOKEN_KEY, value: sealer.seal(token, SEALED.setupToken) }],
      skipDuplicates: true, // INSERT … ON CONFLICT DO NOTHING: of processes starting together, one stores its token
    });
    if (count === 1) return token;
  }
  throw new Error('Could not store a setup token');
}

export async function checkSetupToken(prisma: Settings, sealer: Sealer, token: string): Promise<boolean> {
  const row = await prisma.setting.findUnique({ where: { key: SETUP_TOKEN_KEY } });
  if (!row || !token) return false;
  let stored: string;
  try {
    stored = sealer.open(row.value, SEALED.setupToken);
  } catch {
    return false;
  }
  return timingSafeEqual(sha(stored), sha(token));
}

export async function clearSetupToken(prisma: Settings): Promise<void> {
  await prisma.setting.deleteMany({ where: { key: { in: [SETUP_TOKEN_KEY, LEGACY_KEY] } } });
}
