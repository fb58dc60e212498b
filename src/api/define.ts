// The API's one table of operations. Each operation declares its path, access, and the zod schemas of its
// parameters, query, body and answers; the same declaration validates requests (routes.ts) and becomes the OpenAPI
// document (openapi.ts), so the documentation cannot say something the code does not do.
import type { Request } from 'express';
import type { z } from 'zod';
import type { PublicUser } from '../auth/users.ts';
import type { AuditEntry } from '../security/audit.ts';

export type Method = 'get' | 'post' | 'patch' | 'delete';

export interface ApiContext {
  user: PublicUser;
  token: { id: string; name: string; scope: 'READ_ONLY' | 'READ_WRITE' };
  /** For the services' audit entries: the token's owner, from this request's address. */
  who: Pick<AuditEntry, 'actor' | 'ip'>;
  req: Request;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  example?: unknown;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface Operation<
  P extends AnyObject = AnyObject,
  Q extends AnyObject = AnyObject,
  B extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Express style, under /api/v1: `/mailboxes/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** read: any token; write: read-write tokens only (a read-only one gets 403). */
  access: 'read' | 'write';
  /** Administrators' tokens only (a user's gets 403). */
  admin?: boolean;
  /** Starts work: an Idempotency-Key header makes a repeat answer what the first request answered. */
  idempotent?: boolean;
  /** Path parameters: a value that does not parse is a 404, as on the pages. */
  params?: P;
  query?: Q;
  body?: B;
  requestExample?: z.input<B>;
  responses: Record<number, ResponseSpec>;
  handle(input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }, ctx: ApiContext): Promise<Reply>;
}

/** Keeps each operation's types (params, query, body) while the table holds them all. */
export function op<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(o: Operation<P, Q, B>): Operation {
  return o as unknown as Operation;
}
