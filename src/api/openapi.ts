// The OpenAPI 3.1 document, built from the operations table (define.ts) with zod's own JSON Schema output (draft
// 2020-12, which OpenAPI 3.1 uses): requests as zod reads them (input), answers as they are sent (output).
import { z } from 'zod';
import type { Operation } from './define.ts';
import { problemSchema } from './problem.ts';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(s, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as Json;
  delete out.$schema;
  return out;
}

const PROBLEM = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: PROBLEM } },
});

/** The answers every operation may give besides its own. */
function standardResponses(o: Operation): Record<string, Json> {
  const out: Record<string, Json> = {
    '401': problemResponse('No token, or an unknown, revoked or expired one.'),
    '429': {
      ...problemResponse("Too many requests with this token: wait for the Retry-After header's seconds."),
      headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
    },
  };
  if (o.access === 'write' || o.admin)
    out['403'] = problemResponse(
      [
        o.access === 'write' ? 'A read-only token.' : '',
        o.admin ? 'The token of a user who is not an administrator.' : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  if (o.params) out['404'] = problemResponse('Nothing with this id, or not yours to see.');
  if (o.query || o.body)
    out['400'] = problemResponse(
      [o.query ? 'A query parameter is not valid (see errors).' : '', o.body ? 'The body is not valid JSON.' : '']
        .filter(Boolean)
        .join(' '),
    );
  if (o.body) {
    out['413'] = problemResponse('The body is larger than 256 kB.');
    out['422'] = problemResponse("Some fields are not valid: errors holds each field's message.");
  }
  return out;
}

function parameters(o: Operation): Json[] {
  const out: Json[] = [];
  for (const [where, s] of [
    ['path', o.params],
    ['query', o.query],
  ] as const) {
    if (!s) continue;
    for (const [name, field] of Object.entries(s.shape)) {
      const schema = schemaOf(field as z.ZodType, 'input');
      const optional = (field as z.ZodType).safeParse(undefined).success;
      const description = (schema.description as string | undefined) ?? undefined;
      delete schema.description;
      out.push({
        name,
        in: where,
        required: where === 'path' || !optional,
        schema,
        ...(description ? { description } : {}),
      });
    }
  }
  if (o.idempotent)
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Any unique string (up to 200 characters). A repeat with the same key and the same request answers what the first one answered, and starts nothing; the same key with another request answers 422.',
      schema: { type: 'string', maxLength: 200 },
    });
  return out;
}

export const openApiPath = (path: string) => `/api/v1${path.replace(/:(\w+)/g, '{$1}')}`;

export function buildOpenApi(ops: Operation[], o: { version: string; serverUrl?: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of ops) {
    const responses: Record<string, Json> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      if (!r.schema && Number(status) >= 400) {
        responses[status] = problemResponse(r.description);
        continue;
      }
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? {
              content: {
                'application/json': {
                  schema: schemaOf(r.schema, 'output'),
                  ...(r.example !== undefined ? { example: r.example } : {}),
                },
              },
            }
          : {}),
      };
    }
    Object.assign(responses, Object.fromEntries(Object.entries(standardResponses(op)).filter(([s]) => !responses[s])));
    paths[openApiPath(op.path)] ??= {};
    paths[openApiPath(op.path)][op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      'x-mailroom-access': op.admin ? `${op.access}, administrators only` : op.access,
      parameters: parameters(op),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: schemaOf(op.body, 'input'),
                  ...(op.requestExample !== undefined ? { example: op.requestExample } : {}),
                },
              },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mailroom API',
      version: o.version,
      description:
        'Email server profiles, mailboxes, Test & Enable, alerts, emails, users and the audit log, with the same rules as the pages. ' +
        'Authenticate with a personal API token (your account menu → API tokens): `Authorization: Bearer mrt_…`. ' +
        "A token acts with its owner's role; a read-only token cannot write. Errors are RFC 9457 problem+json. " +
        'Lists page with cursors: pass `nextCursor` back as `cursor`. Each token may send a limited number of requests a minute (429 with Retry-After past it).',
    },
    ...(o.serverUrl ? { servers: [{ url: o.serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [...new Set(ops.map((x) => x.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A Mailroom API token (mrt_…).' } },
      schemas: { Problem: schemaOf(problemSchema, 'output') },
    },
  };
}
