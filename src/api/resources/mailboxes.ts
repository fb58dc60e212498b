// /api/v1/mailboxes: list, read (statuses and the Gmail sign-in's state), create, change, delete, Approve / Reject
// Email, Test & Enable for one or many, and the test runs with their steps. Access as on the pages: an admin any
// mailbox, a user their own (anything else is 404); the same services and form schema decide everything else.
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { AppDeps } from '../../deps.ts';
import { op, type ApiContext, type Operation } from '../define.ts';
import { ApiProblem, invalidFields, notFound } from '../problem.ts';
import { after, dateTime, decodeCursor, iso, page, pageOf, pagingQuery } from '../paging.ts';
import { loadMailboxFor, mailboxInclude, type MailboxDetail } from '../../mailboxes/access.ts';
import { mailboxFormSchema } from '../../mailboxes/form.ts';
import { mailboxListWhere } from '../../mailboxes/list.ts';
import { newValues } from '../../mailboxes/pages.ts';
import { editValues, mailboxView } from '../../mailboxes/view-model.ts';
import { isPending } from '../../mailboxes/status.ts';
import {
  ApprovalNotAllowedError,
  createMailbox,
  deleteMailbox,
  MailboxFormError,
  setApproval,
  updateMailbox,
} from '../../mailboxes/service.ts';
import { mailboxIds, selectedMailboxes } from '../../checks/selection.ts';
import { fieldErrors } from '../../web/forms.ts';

const APPROVAL = ['EMPTY', 'PENDING', 'APPROVED', 'REJECTED'] as const;
const CHECK = ['NOT_RUN', 'PENDING', 'SUCCESS', 'FAILURE'] as const;
const SYNC = ['NONE', 'SERVER_SIDE_SYNC', 'EMAIL_ROUTER'] as const;
const f = mailboxFormSchema.shape;

export const mailboxBody = z.object({
  name: z.string({ error: 'Enter a name' }).optional(),
  emailAddress: z.string({ error: 'Enter a valid email address' }).optional(),
  ownerId: z
    .string({ error: 'Choose an owner' })
    .optional()
    .meta({ description: "Administrators only: the owner's user id (default: the token's owner)." }),
  profileId: z.string({ error: 'Choose an email server profile' }).nullable().optional(),
  incomingEmail: f.incomingEmail.optional(),
  outgoingEmail: f.outgoingEmail.optional(),
  credentialUsername: z.string({ error: 'Enter a user name' }).optional(),
  credentialPassword: z.string({ error: 'Enter a password' }).optional().meta({
    writeOnly: true,
    description: 'Write-only, for profiles with credentials per mailbox. Leave out to keep it.',
  }),
  clearCredentialPassword: z.boolean({ error: 'Use true or false' }).optional(),
});
type MailboxBody = z.infer<typeof mailboxBody>;

const stepJson = z.object({
  id: z.string(),
  label: z.string(),
  status: z.string().meta({ description: 'ok, fail or skip.' }),
  code: z.string().optional(),
  message: z.string().optional(),
  hint: z.string().optional(),
  transient: z.boolean().optional(),
});

export const mailboxJson = z.object({
  id: z.uuid(),
  name: z.string(),
  emailAddress: z.string(),
  owner: z.object({ id: z.uuid(), name: z.string(), email: z.string() }),
  profile: z
    .object({ id: z.uuid(), name: z.string(), authenticateUsing: z.string(), serverType: z.string() })
    .nullable(),
  incomingEmail: z.enum(SYNC),
  outgoingEmail: z.enum(SYNC),
  emailApproval: z.enum(APPROVAL),
  incomingStatus: z.enum(CHECK),
  outgoingStatus: z.enum(CHECK),
  enabledForIncoming: z.boolean(),
  enabledForOutgoing: z.boolean(),
  testRunning: z.boolean().meta({ description: 'A Test & Enable run is under way (a status is PENDING).' }),
  lastTestStartedAt: dateTime.nullable(),
  lastTestCompletedAt: dateTime.nullable(),
  retry: z.object({ count: z.int(), limit: z.int(), nextRetryAt: dateTime.nullable() }),
  credentialUsername: z.string().nullable(),
  hasCredentialPassword: z.boolean(),
  grant: z
    .object({
      googleEmail: z.string(),
      grantedScopes: z.string(),
      issuedAt: dateTime,
      refreshedAt: dateTime.nullable(),
      accessTokenExpiresAt: dateTime,
      hasRefreshToken: z.boolean(),
      needsReconsent: z.boolean(),
      signInRequired: z.object({ since: dateTime, code: z.string(), hint: z.string() }).nullable(),
      testingExpiresAt: dateTime
        .nullable()
        .meta({ description: "When a Testing-status Google app's sign-in ends (7 days after it was issued)." }),
    })
    .nullable()
    .meta({ description: 'The Gmail sign-in (never its tokens); null when nobody signed in.' }),
  createdAt: dateTime,
  updatedAt: dateTime,
});
type MailboxJson = z.input<typeof mailboxJson>;

export function mailboxToJson(m: MailboxDetail): MailboxJson {
  const v = mailboxView(m);
  const g = v.grant;
  return {
    id: m.id,
    name: m.name,
    emailAddress: m.emailAddress,
    owner: m.owner,
    profile: v.profile,
    incomingEmail: m.incomingEmail,
    outgoingEmail: m.outgoingEmail,
    emailApproval: m.emailApproval,
    incomingStatus: m.incomingStatus,
    outgoingStatus: m.outgoingStatus,
    enabledForIncoming: m.enabledForIncoming,
    enabledForOutgoing: m.enabledForOutgoing,
    testRunning: isPending(m),
    lastTestStartedAt: iso(m.lastTestStartedAt),
    lastTestCompletedAt: iso(m.lastTestCompletedAt),
    retry: { count: m.retryCount, limit: m.retryLimit, nextRetryAt: iso(m.nextRetryAt) },
    credentialUsername: m.credentialUsername,
    hasCredentialPassword: v.hasCredentialPassword,
    grant: g && {
      googleEmail: g.googleEmail,
      grantedScopes: g.grantedScopes,
      issuedAt: g.issuedAt.toISOString(),
      refreshedAt: iso(g.refreshedAt),
      accessTokenExpiresAt: g.accessTokenExpiresAt.toISOString(),
      hasRefreshToken: g.hasRefreshToken,
      needsReconsent: g.needsReconsent,
      signInRequired: g.signInRequired && { ...g.signInRequired, since: g.signInRequired.since.toISOString() },
      testingExpiresAt: iso(g.testing?.expiresAt),
    },
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

const testRequestJson = z.object({
  queued: z.array(z.uuid()).meta({ description: 'Mailboxes a run was queued for.' }),
  alreadyRunning: z
    .array(z.uuid())
    .meta({ description: 'Mailboxes with a run already queued or running: none added.' }),
  notFound: z.array(z.string()).meta({ description: 'Ids of no mailbox the token may see.' }),
});

const testRunJson = z.object({
  id: z.uuid(),
  mailboxId: z.uuid(),
  status: z.string().meta({ description: 'QUEUED, RUNNING, then how it ended.' }),
  attempt: z.int(),
  requestedBy: z.string().nullable(),
  startedAt: dateTime,
  finishedAt: dateTime.nullable(),
  steps: z.array(stepJson),
});
type Run = Prisma.TestRunGetPayload<object>;
const runToJson = (r: Run): z.input<typeof testRunJson> => ({
  id: r.id,
  mailboxId: r.mailboxId,
  status: r.status,
  attempt: r.attempt,
  requestedBy: r.requestedBy,
  startedAt: r.startedAt.toISOString(),
  finishedAt: iso(r.finishedAt),
  steps: Array.isArray(r.steps) ? (r.steps as z.input<typeof stepJson>[]) : [],
});

/** The form's body: the starting values with the JSON laid over them, as the form would post them. */
function asForm(base: Record<string, string>, body: MailboxBody): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(body))
    out[k] = typeof v === 'boolean' ? (v ? 'true' : '') : v === null || v === undefined ? '' : v;
  return out;
}

const idParams = z.object({ id: z.uuid() });
const tag = 'Mailboxes';

export function mailboxOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  const load = (ctx: ApiContext, id: string) => loadMailboxFor(prisma, ctx.req, id);
  const reload = async (id: string) =>
    mailboxToJson(await prisma.mailbox.findUniqueOrThrow({ where: { id }, include: mailboxInclude }));
  const tests = () => {
    if (!deps.tests) throw new ApiProblem(503, 'Background jobs are not running on this server.');
    return deps.tests;
  };
  const parseForm = (merged: Record<string, unknown>) => {
    const parsed = mailboxFormSchema.safeParse(merged);
    if (!parsed.success) throw invalidFields(fieldErrors(parsed.error));
    return parsed.data;
  };
  const formErrors = (e: unknown): never => {
    if (e instanceof MailboxFormError) throw invalidFields(e.errors);
    throw e;
  };
  const request = async (ctx: ApiContext, ids: string[]) => {
    const visible = await selectedMailboxes(prisma, ctx.user, ids);
    const seen = new Set(visible.map((m) => m.id));
    const q = visible.length
      ? await tests().request(
          visible.map((m) => m.id),
          ctx.user.id,
          ctx.who,
        )
      : { queued: [], alreadyQueued: [] };
    return {
      status: 202,
      body: {
        queued: q.queued,
        alreadyRunning: [...new Set(q.alreadyQueued)],
        notFound: [...new Set(ids.filter((id) => !seen.has(id)))],
      },
    };
  };

  return [
    op({
      method: 'get',
      path: '/mailboxes',
      operationId: 'listMailboxes',
      summary: 'List mailboxes',
      description: "An administrator's token lists every mailbox; a user's, their own. By name.",
      tag,
      access: 'read',
      query: z.object({
        q: z.string().max(200).optional().meta({ description: 'Part of the name or email address.' }),
        profileId: z.uuid({ error: 'Use a profile id' }).optional(),
        ownerId: z.uuid({ error: 'Use a user id' }).optional(),
        emailApproval: z.enum(APPROVAL, { error: `Use one of ${APPROVAL.join(', ')}` }).optional(),
        incomingStatus: z.enum(CHECK, { error: `Use one of ${CHECK.join(', ')}` }).optional(),
        outgoingStatus: z.enum(CHECK, { error: `Use one of ${CHECK.join(', ')}` }).optional(),
        ...pagingQuery,
      }),
      responses: { 200: { description: 'A page of mailboxes.', schema: pageOf(mailboxJson) } },
      async handle({ query }, ctx) {
        const values = decodeCursor(query.cursor, ['string', 'string']);
        const where: Prisma.MailboxWhereInput = {
          AND: [
            mailboxListWhere(ctx.user, { q: query.q ?? '', profile: query.profileId ?? null }),
            query.ownerId ? { ownerId: query.ownerId } : {},
            query.emailApproval ? { emailApproval: query.emailApproval } : {},
            query.incomingStatus ? { incomingStatus: query.incomingStatus } : {},
            query.outgoingStatus ? { outgoingStatus: query.outgoingStatus } : {},
            after('name', 'asc', values),
          ],
        };
        const rows = await prisma.mailbox.findMany({
          where,
          include: mailboxInclude,
          orderBy: [{ name: 'asc' }, { id: 'asc' }],
          take: query.limit + 1,
        });
        return { status: 200, body: page(rows, query.limit, (r) => [r.name, r.id], mailboxToJson) };
      },
    }),
    op({
      method: 'get',
      path: '/mailboxes/:id',
      operationId: 'getMailbox',
      summary: 'Read a mailbox, its statuses and its Gmail sign-in',
      tag,
      access: 'read',
      params: idParams,
      responses: { 200: { description: 'The mailbox (never its password or tokens).', schema: mailboxJson } },
      async handle({ params }, ctx) {
        return { status: 200, body: mailboxToJson(await load(ctx, params.id)) };
      },
    }),
    op({
      method: 'post',
      path: '/mailboxes',
      operationId: 'createMailbox',
      summary: 'Create a mailbox',
      description:
        "Fields left out take the New mailbox form's defaults (the default Gmail profile; a user's own name and address). The address then waits for an administrator's approval.",
      tag,
      access: 'write',
      body: mailboxBody,
      requestExample: { name: 'Sales', emailAddress: 'sales@example.com', profileId: null },
      responses: { 201: { description: 'Created.', schema: mailboxJson } },
      async handle({ body }, ctx) {
        const input = parseForm(asForm(await newValues(deps, ctx.user), body));
        const m = await createMailbox(deps, ctx.user, input, { ip: ctx.who.ip }).catch(formErrors);
        return { status: 201, headers: { Location: `/api/v1/mailboxes/${m.id}` }, body: await reload(m.id) };
      },
    }),
    op({
      method: 'patch',
      path: '/mailboxes/:id',
      operationId: 'updateMailbox',
      summary: 'Change a mailbox',
      description:
        'Only the fields sent change. A new address or profile sets the approval back to Pending, resets the test results and removes the Gmail sign-in, as on the page.',
      tag,
      access: 'write',
      params: idParams,
      body: mailboxBody,
      requestExample: { name: 'Sales team' },
      responses: { 200: { description: 'Saved.', schema: mailboxJson } },
      async handle({ params, body }, ctx) {
        const current = await load(ctx, params.id);
        const input = parseForm(asForm(editValues(current), body));
        await updateMailbox(deps, ctx.user, current, input, { ip: ctx.who.ip }).catch(formErrors);
        return { status: 200, body: await reload(current.id) };
      },
    }),
    op({
      method: 'delete',
      path: '/mailboxes/:id',
      operationId: 'deleteMailbox',
      summary: 'Delete a mailbox',
      description: 'Its Gmail sign-in is revoked at Google, as on the page.',
      tag,
      access: 'write',
      params: idParams,
      responses: { 204: { description: 'Deleted.' } },
      async handle({ params }, ctx) {
        await deleteMailbox(deps, ctx.user, await load(ctx, params.id), { ip: ctx.who.ip });
        return { status: 204 };
      },
    }),
    ...(['approve', 'reject'] as const).map((action) =>
      op({
        method: 'post',
        path: `/mailboxes/:id/${action}`,
        operationId: `${action}Mailbox`,
        summary: action === 'approve' ? 'Approve Email (the address)' : 'Reject Email (the address)',
        tag,
        access: 'write',
        admin: true,
        params: idParams,
        responses: { 200: { description: 'The mailbox after the decision.', schema: mailboxJson } },
        async handle({ params }, ctx) {
          const m = await load(ctx, params.id);
          try {
            await setApproval(deps, ctx.user, m, action === 'approve' ? 'APPROVED' : 'REJECTED', { ip: ctx.who.ip });
          } catch (e) {
            if (e instanceof ApprovalNotAllowedError) throw new ApiProblem(403, e.message);
            throw e;
          }
          return { status: 200, body: await reload(m.id) };
        },
      }),
    ),
    op({
      method: 'post',
      path: '/mailboxes/:id/test-enable',
      operationId: 'testEnableMailbox',
      summary: 'Test & Enable Mailbox',
      description:
        'Queues a run unless one is already queued or running for the mailbox. Send an Idempotency-Key to make retries safe.',
      tag,
      access: 'write',
      idempotent: true,
      params: idParams,
      responses: {
        202: {
          description: 'Queued, or already running.',
          schema: testRequestJson,
          example: { queued: ['6f1c2b7e-3d4a-4b5c-9d8e-7f6a5b4c3d2e'], alreadyRunning: [], notFound: [] },
        },
      },
      async handle({ params }, ctx) {
        const m = await load(ctx, params.id);
        return request(ctx, [m.id]);
      },
    }),
    op({
      method: 'post',
      path: '/mailboxes/test-enable',
      operationId: 'testEnableMailboxes',
      summary: 'Test & Enable many mailboxes',
      description:
        'Up to 1,000 mailbox ids. Ids of mailboxes the token may not see are listed in notFound; the rest are queued or already running.',
      tag,
      access: 'write',
      idempotent: true,
      body: z.object({ ids: mailboxIds.meta({ description: 'Mailbox ids, at most 1,000.' }) }),
      requestExample: { ids: ['6f1c2b7e-3d4a-4b5c-9d8e-7f6a5b4c3d2e'] },
      responses: { 202: { description: 'The queued / already-running split.', schema: testRequestJson } },
      async handle({ body }, ctx) {
        if (!body.ids.length) throw invalidFields({ ids: 'Select one or more mailboxes first.' });
        return request(ctx, body.ids);
      },
    }),
    op({
      method: 'get',
      path: '/mailboxes/:id/test-runs',
      operationId: 'listTestRuns',
      summary: "A mailbox's Test & Enable runs, newest first",
      tag,
      access: 'read',
      params: idParams,
      query: z.object(pagingQuery),
      responses: { 200: { description: 'A page of runs with their steps.', schema: pageOf(testRunJson) } },
      async handle({ params, query }, ctx) {
        const m = await load(ctx, params.id);
        const values = decodeCursor(query.cursor, ['date', 'string']);
        const rows = await prisma.testRun.findMany({
          where: { AND: [{ mailboxId: m.id }, after('startedAt', 'desc', values)] },
          orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
          take: query.limit + 1,
        });
        return { status: 200, body: page(rows, query.limit, (r) => [r.startedAt, r.id], runToJson) };
      },
    }),
    op({
      method: 'get',
      path: '/mailboxes/:id/test-runs/:runId',
      operationId: 'getTestRun',
      summary: 'Read one Test & Enable run and its steps',
      tag,
      access: 'read',
      params: z.object({ id: z.uuid(), runId: z.uuid() }),
      responses: { 200: { description: 'The run.', schema: testRunJson } },
      async handle({ params }, ctx) {
        const m = await load(ctx, params.id);
        const run = await prisma.testRun.findFirst({ where: { id: params.runId, mailboxId: m.id } });
        if (!run) throw notFound();
        return { status: 200, body: runToJson(run) };
      },
    }),
  ];
}
