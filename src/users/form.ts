// The admin's user forms read at the boundary: a new user, and a new password typed twice.
import { z } from 'zod';
import { newUserSchema, passwordSchema, type NewUser } from '../auth/users.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

const body = z.record(z.string(), z.unknown());
const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** The values a failed new-user form shows again (never the password). */
export function newUserValues(input: unknown): Record<string, string> {
  const b = body.safeParse(input).data ?? {};
  return { email: text(b.email), name: text(b.name), role: text(b.role) };
}

export function parseNewUser(input: unknown): FormResult<NewUser> {
  const parsed = newUserSchema.safeParse(input ?? {});
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, errors: fieldErrors(parsed.error) };
}

export function parseNewPassword(input: unknown): FormResult<string> {
  const b = body.safeParse(input).data ?? {};
  const parsed = passwordSchema.safeParse(b.password);
  if (!parsed.success) return { ok: false, errors: { password: parsed.error.issues[0].message } };
  if (b.password !== b.confirmPassword) return { ok: false, errors: { confirmPassword: 'The passwords do not match' } };
  return { ok: true, data: parsed.data };
}
