// App users: create, authenticate, disable, reset password. The rules live here; routes and the CLI call them.
import { z } from 'zod';
import type { PrismaClient, User, Role } from '../generated/prisma/client.ts';
import { hashPassword, verifyPassword, dummyHash, PASSWORD_RULE } from './passwords.ts';

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'Enter a valid email address' }));
export const passwordSchema = z
  .string()
  .min(PASSWORD_RULE.min, `Use at least ${PASSWORD_RULE.min} characters`)
  .max(PASSWORD_RULE.max, `Use at most ${PASSWORD_RULE.max} characters`);
export const newUserSchema = z.object({
  email: emailSchema,
  name: z.string().trim().min(1, 'Enter a name').max(200, 'Use at most 200 characters'),
  password: passwordSchema,
  role: z.enum(['ADMIN', 'USER']).default('USER'),
});
export type NewUser = z.infer<typeof newUserSchema>;

export class DuplicateEmailError extends Error {}

export type PublicUser = Pick<User, 'id' | 'email' | 'name' | 'role' | 'disabledAt' | 'createdAt'>;
export const publicUserSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
  createdAt: true,
} as const;

export async function createUser(prisma: PrismaClient, input: NewUser): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await prisma.user.create({
      data: { email: input.email, name: input.name, role: input.role as Role, passwordHash },
      select: publicUserSelect,
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'P2002')
      throw new DuplicateEmailError(`A user with email ${input.email} already exists`);
    throw e;
  }
}

/** Returns the user when the email and password match an enabled account; null otherwise (same time either way). */
export async function authenticate(prisma: PrismaClient, email: string, password: string): Promise<PublicUser | null> {
  const user = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok || user.disabledAt) return null;
  const { passwordHash: _drop, updatedAt: _u, ...pub } = user;
  return pub;
}

export async function setPassword(prisma: PrismaClient, userId: string, password: string): Promise<void> {
  await prisma.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(password) } });
}

export async function countUsers(prisma: PrismaClient): Promise<number> {
  return prisma.user.count();
}
