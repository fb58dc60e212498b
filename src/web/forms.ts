// Form helpers: every request body is an object, and zod errors → { field: message }, so a form re-renders with each
// field's own error.
import type { Request, Response, NextFunction } from 'express';
import type { ZodError } from 'zod';

/**
 * Express 5 leaves req.body undefined when no parser took the request (no body, text/plain, multipart) and a JSON body
 * may be an array: routes read fields from an object, so anything else becomes an empty one (every field missing).
 */
export function objectBody(req: Request, _res: Response, next: NextFunction): void {
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) req.body = {};
  next();
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
