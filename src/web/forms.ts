// Form helpers: every request body is an object without NULs, and zod errors → { field: message }, so a form re-renders
// with each field's own error.
import type { Request, Response, NextFunction } from 'express';
import type { ZodError } from 'zod';
import { HttpError } from './errors.ts';

/**
 * Express 5 leaves req.body undefined when no parser took the request (no body, text/plain, multipart) and a JSON body
 * may be an array: routes read fields from an object, so anything else becomes an empty one (every field missing).
 */
export function objectBody(req: Request, _res: Response, next: NextFunction): void {
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) req.body = {};
  if (/%00|\0/.test(req.originalUrl) || hasNul(req.body))
    return next(new HttpError(400, 'What you sent contains a NUL character, which no field accepts.'));
  next();
}

/** PostgreSQL text cannot hold NUL (a query with one fails), and no form field has a use for it: refuse it at the door. */
function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (typeof v !== 'object' || v === null || depth > 20) return false;
  return Object.entries(v).some(([k, x]) => k.includes('\0') || hasNul(x, depth + 1));
}

export type FieldErrors = Record<string, string>;

export function fieldErrors(error: ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || '_form';
    out[key] ??= issue.message;
  }
  return out;
}
