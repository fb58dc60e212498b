// /api/v1/users and /api/v1/audit-events (administrators), and /api/v1/me (any token: whose it is). Users are added,
// disabled or enabled, and given a new password through the Users pages' service, with the same messages.
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { AppDeps } from '../../deps.ts';
import { op, type Operation } from '../define.ts';
import { invalidFields, notFound } from '../problem.ts';
import { after, dateTime, decodeCursor, iso, page, pageOf, pagingQuery } from '../paging.ts';
import { DuplicateEmailError, passwordSchema, type PublicUser } from '../../auth/users.ts';
import { addUser, getUser, resetPassword, setUserEnabled } from '../../users/service.ts';
import { parseNewUser } from '../../users/form.ts';
import { containsText } from '../../web/list-sql.ts';

const userJson = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['ADMIN', 'USER']),
  disabled: z.boolean(),
  disabledAt: dateTime.nullable(),
  createdAt: dateTime,
});
const userToJson = (u: PublicUser): z.input<typeof userJson> => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  disabled: !!u.disabledAt,
  disabledAt: iso(u.disabledAt),
  createdAt: u.createdAt.toISOString(),
});

const auditJson = z.object({
  id: z.uuid(),
  at: dateTime,
  actor: z.object({ id: z.string().nullable(), email: z.string().nullable() }),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  result: z.string(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
});

const newUserBody = z.object({
  email: z.string({ error: 'Enter a valid email address' }),
  name: z.string({ error: 'Enter a name' }),
  password: z.string({ error: `Enter a password` }).meta({ writeOnly: true, description: 'At least 10 characters.' }),
  role: z.enum(['ADMIN', 'USER'], { error: 'Choose a role' }).optional().meta({ description: 'Default USER.' }),
});
const patchUserBody = z.object({
  disabled: z
    .boolean({ error: 'Use true or false' })
    .optional()
    .meta({ description: 'Disabling signs the user out everywhere.' }),
  password: passwordSchema
    .optional()
    .meta({ writeOnly: true, description: 'A new password (at least 10 characters).' }),
});

export function adminOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  const loadUser = async (id: string) => (await getUser(prisma, id)) ?? Promise.reject(notFound());
  return [
    op({
      method: 'get',
      path: '/me',
      operationId: 'getMe',
      summary: "The token's owner and the token",
      tag: 'Account',
      access: 'read',
      responses: {
        200: {
          description: 'Who the token acts as.',
          schema: z.object({
            user: userJson,
            token: z.object({ id: z.uuid(), name: z.string(), scope: z.enum(['READ_ONLY', 'READ_WRITE']) }),
          }),
        },
      },
      async handle(_input, ctx) {
        return { status: 200, body: { user: userToJson(ctx.user), token: ctx.token } };
      },
    }),
    op({
      method: 'get',
      path: '/users',
      operationId: 'listUsers',
      summary: 'List users',
      tag: 'Users',
      access: 'read',
      admin: true,
      query: z.object({
        q: z.string().max(200).optional().meta({ description: 'Part of the name or email.' }),
        ...pagingQuery,
      }),
      responses: { 200: { description: 'A page of users, by email.', schema: pageOf(userJson) } },
      async handle({ query }) {
        const values = decodeCursor(query.cursor, ['string', 'string']);
        const where: Prisma.UserWhereInput = {
          AND: [
            query.q
              ? {
                  OR: [{ email: containsText(query.q) }, { name: containsText(query.q) }],
                }
              : {},
            after('email', 'asc', values),
          ],
        };
        const rows = await prisma.user.findMany({
          where,
          orderBy: [{ email: 'asc' }, { id: 'asc' }],
          take: query.limit + 1,
          select: { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true },
        });
        return { status: 200, body: page(rows, query.limit, (u) => [u.email, u.id], userToJson) };
      },
    }),
    op({
      method: 'get',
      path: '/users/:id',
      operationId: 'getUser',
      summary: 'Read a user',
      tag: 'Users',
      access: 'read',
      admin: true,
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: 'The user.', schema: userJson } },
      async handle({ params }) {
        return { status: 200, body: userToJson(await loadUser(params.id)) };
      },
    }),
    op({
      method: 'post',
      path: '/users',
      operationId: 'createUser',
      summary: 'Add a user',
      tag: 'Users',
      access: 'write',
      admin: true,
      body: newUserBody,
      requestExample: { email: 'ana@example.com', name: 'Ana', password: 'a long passphrase', role: 'USER' },
      responses: { 201: { description: 'Added.', schema: userJson } },
      async handle({ body }, ctx) {
        const form = parseNewUser(body);
        if (!form.ok) throw invalidFields(form.errors);
        try {
          const u = await addUser(prisma, form.data, ctx.who);
          return { status: 201, headers: { Location: `/api/v1/users/${u.id}` }, body: userToJson(u) };
        } catch (e) {
          if (e instanceof DuplicateEmailError) throw invalidFields({ email: 'A user with this email already exists' });
          throw e;
        }
      },
    }),
    op({
      method: 'patch',
      path: '/users/:id',
      operationId: 'updateUser',
      summary: 'Disable or enable a user, or set a new password',
      tag: 'Users',
      access: 'write',
      admin: true,
      params: z.object({ id: z.uuid() }),
      body: patchUserBody,
      requestExample: { disabled: true },
      responses: { 200: { description: 'The user after the change.', schema: userJson } },
      async handle({ params, body }, ctx) {
        const u = await loadUser(params.id);
        if (body.disabled !== undefined && body.disabled !== !!u.disabledAt) {
          const result = await setUserEnabled(prisma, u, !body.disabled, ctx.who);
          if (!result.ok) throw invalidFields({ disabled: 'You cannot disable your own account.' });
        }
        if (body.password !== undefined) await resetPassword(prisma, u, body.password, ctx.who);
        return { status: 200, body: userToJson(await loadUser(u.id)) };
      },
    }),
    op({
      method: 'get',
      path: '/audit-events',
      operationId: 'listAuditEvents',
      summary: 'Read the audit log',
      description: 'Newest first. Never holds a secret.',
      tag: 'Audit log',
      access: 'read',
      admin: true,
      query: z.object({
        action: z
          .string()
          .max(100)
          .optional()
          .meta({ description: 'The start of the action, e.g. "mailbox." or "api-token.".' }),
        targetId: z.string().max(100).optional(),
        ...pagingQuery,
      }),
      responses: { 200: { description: 'A page of audit events.', schema: pageOf(auditJson) } },
      async handle({ query }) {
        const values = decodeCursor(query.cursor, ['date', 'string']);
        const rows = await prisma.auditEvent.findMany({
          where: {
            AND: [
              query.action ? { action: { startsWith: query.action } } : {},
              query.targetId ? { targetId: query.targetId } : {},
              after('at', 'desc', values),
            ],
          },
          orderBy: [{ at: 'desc' }, { id: 'desc' }],
          take: query.limit + 1,
        });
        return {
          status: 200,
          body: page(
            rows,
            query.limit,
            (e) => [e.at, e.id],
            (e) => ({
              id: e.id,
              at: e.at.toISOString(),
              actor: { id: e.actorId, email: e.actorEmail },
              action: e.action,
              targetType: e.targetType,
              targetId: e.targetId,
              result: e.result,
              details: (e.details ?? {}) as Record<string, unknown>,
              ip: e.ip,
            }),
          ),
        };
      },
    }),
  ];
}
