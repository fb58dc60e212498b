// The CSV upload's multipart parser (multer, in memory, one file of at most 1 MB). It runs before the CSRF check, which
// reads the token from the parsed form, and only for signed-in admins; a refused upload (too large, several files) is
// noted for the page to show instead of failing the request.
import { createRequire } from 'node:module';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type multer from 'multer';
import type { PublicUser } from '../auth/users.ts';

export const MAX_UPLOAD_BYTES = 1024 * 1024;
// multer is loaded by the first upload, not at start (decision 035).
const require = createRequire(import.meta.url);
let parser: RequestHandler | undefined;
function upload(): RequestHandler {
  if (parser) return parser;
  const m = require('multer') as typeof multer;
  parser = m({
    storage: m.memoryStorage(),
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10, parts: 12, fieldSize: 4096 },
  }).single('file');
  return parser;
}

const MESSAGES: Record<string, string> = {
  LIMIT_FILE_SIZE: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB: split it into smaller files.`,
  LIMIT_FILE_COUNT: 'Upload one file at a time.',
  LIMIT_UNEXPECTED_FILE: 'Upload the file in the “CSV file” field.',
};

export function csvUpload(req: Request, res: Response, next: NextFunction): void {
  if ((req.user as PublicUser | undefined)?.role !== 'ADMIN' || !req.is('multipart/form-data')) return next();
  upload()(req, res, (err: unknown) => {
    if (err)
      res.locals.uploadError = MESSAGES[(err as { code?: string }).code ?? ''] ?? 'The upload could not be read.';
    if (typeof req.body !== 'object' || req.body === null) req.body = {};
    next();
  });
}
