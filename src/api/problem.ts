// RFC 9457 problem details: every error the API answers is application/problem+json, and a form's field errors travel
// in `errors` under the same field names and with the same words the pages show.
import type { Response } from 'express';
import { z } from 'zod';
import type { FieldErrors } from '../web/forms.ts';

export const problemSchema = z
  .object({
    type: z
      .string()
      .meta({ description: 'A URI reference naming the kind of problem; about:blank for plain HTTP ones.' }),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    errors: z.record(z.string(), z.string()).optional().meta({
      description: "Field name → the message the page's form shows for it. `_form` is about the whole request.",
    }),
    code: z
      .string()
      .optional()
      .meta({ description: 'Why a mailbox refuses to send, e.g. NOT_APPROVED or NOT_ENABLED_FOR_OUTGOING.' }),
  })
  .meta({ title: 'Problem' });
export type Problem = z.infer<typeof problemSchema>;

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Invalid fields',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Thrown by API handlers; the API's error handler turns it into a problem+json answer. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly extra: { type?: string; errors?: FieldErrors; code?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  toJSON(): Problem {
    return problem(this.status, this.message, this.extra);
  }
}

export function problem(
  status: number,
  detail: string,
  o: { type?: string; errors?: FieldErrors; code?: string } = {},
): Problem {
  return {
    type: o.type ?? 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(o.errors ? { errors: o.errors } : {}),
    ...(o.code ? { code: o.code } : {}),
  };
}

export const invalidFields = (errors: FieldErrors, detail = 'Some fields are not valid: see errors.') =>
  new ApiProblem(422, detail, { type: '/api/problems/invalid-fields', errors });

export const NOT_FOUND = 'There is nothing at this address, or you do not have access to it.';
export const notFound = (detail = NOT_FOUND) => new ApiProblem(404, detail);

export function sendProblem(res: Response, p: Problem, headers: Record<string, string> = {}): void {
  res.status(p.status).set(headers).type('application/problem+json').send(JSON.stringify(p));
}
