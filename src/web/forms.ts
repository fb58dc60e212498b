// Form helpers: zod errors → { field: message }, so a form re-renders with each field's own error.
import type { ZodError } from 'zod';

export type FieldErrors = Record<string, string>;

export function fieldErrors(error: ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || '_form';
    out[key] ??= issue.message;
  }
  return out;
}

/** Parses a positive page number from a query string value. */
export function pageParam(value: unknown): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n < 1_000_000 ? n : 1;
}
