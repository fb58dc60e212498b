// First run: with no users, start-up prints a one-time URL whose token lets one person create the first admin.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';

const KEY = 'setup_token_sha256';
const sha = (t: string) => createHash('sha256').update(t).digest();

export async function issueSetupToken(prisma: PrismaClient): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  const value = sha(token).toString('hex');
  await prisma.setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
  return token;
}

export async function checkSetupToken(prisma: PrismaClient, token: string): Promise<boolean> {
  const row = await prisma.setting.findUnique({ where: { key: KEY } });
  if (!row || !token) return false;
  return timingSafeEqual(Buffer.from(row.value, 'hex'), sha(token));
}

export async function clearSetupToken(prisma: PrismaClient): Promise<void> {
  await prisma.setting.deleteMany({ where: { key: KEY } });
}
