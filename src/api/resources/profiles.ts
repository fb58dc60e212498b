// /api/v1/profiles (administrators): the pages' profile rules through the API. A JSON body is laid over the form's
// values (defaults for a new profile, the stored ones for PATCH) and read by the same parseProfileForm, so field
// errors carry the form's words. The Client Secret is write-only: answers only say whether one is stored.
import { z } from 'zod';
import type { EmailServerProfile, Prisma } from '../../generated/prisma/client.ts';
import type { AppDeps } from '../../deps.ts';
import { op, type Operation } from '../define.ts';
import { ApiProblem, invalidFields, notFound } from '../problem.ts';
import { after, dateTime, decodeCursor, page, pageOf, pagingQuery } from '../paging.ts';
import {
  DEFAULT_VALUES,
  formValuesFromProfile,
  parseProfileForm,
  profileSchema,
  type ProfileFormValues,
} from '../../profiles/form.ts';
import { deleteProfile, getProfile, profileUsage, DuplicateProfileNameError } from '../../profiles/service.ts';
import { createAndVerify, updateAndVerify } from '../../profiles/save.ts';
import { VERDICT_LABELS, type ClientVerdict } from '../../profiles/verify-client.ts';
import { containsText } from '../../web/list-sql.ts';

const s = profileSchema.shape;
const int = (min: number, max: number) =>
  z.int({ error: `Enter a whole number from ${min} to ${max}` }).meta({ description: `${min} to ${max}.` });
const bool = z.boolean({ error: 'Use true or false' });
const text = (error: string) => z.string({ error });

export const profileBody = z.object({
  name: text('Enter a name').optional(),
  description: text('Enter a description').optional(),
  serverType: s.serverType.optional(),
  incomingServer: text('Enter a host name').optional(),
  incomingPort: int(1, 65535).optional(),
  incomingUseSsl: bool.optional(),
  outgoingServer: text('Enter a host name').optional(),
  outgoingPort: int(1, 65535).optional(),
  outgoingSecurity: s.outgoingSecurity.optional(),
  authenticateUsing: s.authenticateUsing.optional(),
  oauthClientId: text('Enter the Client Id').nullable().optional(),
  oauthClientSecret: text('Enter the Client Secret')
    .optional()
    .meta({ writeOnly: true, description: 'Write-only: never returned. Leave out to keep the stored one.' }),
  clearClientSecret: bool.optional().meta({ description: 'Remove the stored Client Secret.' }),
  isDefaultGmail: bool.optional(),
  googleAppInTesting: bool.optional(),
  maxConcurrentConnections: int(1, 300).optional(),
  minPollingIntervalMinutes: int(0, 1440).optional(),
  processEmailFrom: text('Enter a date as YYYY-MM-DD, from 1970 on')
    .nullable()
    .optional()
    .meta({ description: 'YYYY-MM-DD, or null.' }),
  moveFailedToUndeliverable: bool.optional(),
});
type ProfileBody = z.infer<typeof profileBody>;

const verdictSchema = z.object({ result: z.string(), label: z.string(), message: z.string() });
export const profileJson = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  serverType: z.enum(['IMAP', 'POP3']),
  incomingServer: z.string(),
  incomingPort: z.int(),
  incomingUseSsl: z.boolean(),
  outgoingServer: z.string(),
  outgoingPort: z.int(),
  outgoingSecurity: z.enum(['SSL', 'STARTTLS']),
  authenticateUsing: z.enum(['GMAIL_OAUTH', 'CREDENTIALS_PER_MAILBOX']),
  oauthClientId: z.string().nullable(),
  hasClientSecret: z.boolean().meta({ description: 'Whether a Client Secret is stored (it is never returned).' }),
  isDefaultGmail: z.boolean(),
  googleAppInTesting: z.boolean(),
  maxConcurrentConnections: z.int(),
  minPollingIntervalMinutes: z.int(),
  processEmailFrom: z.iso.date().nullable(),
  moveFailedToUndeliverable: z.boolean(),
  clientVerified: z
    .object({ at: dateTime, result: z.string(), message: z.string().nullable() })
    .nullable()
    .meta({ description: 'The last Verify client at Google.' }),
  mailboxCount: z.int(),
  createdAt: dateTime,
  updatedAt: dateTime,
});
const savedJson = profileJson.extend({
  warnings: z.record(z.string(), z.string()).meta({ description: 'Advice about valid but probably wrong values.' }),
  verifyClient: verdictSchema
    .nullable()
    .meta({ description: 'Verify client, run when the Client Id or Secret changed.' }),
});

function toJson(p: EmailServerProfile, mailboxCount: number): z.input<typeof profileJson> {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    serverType: p.serverType,
    incomingServer: p.incomingServer,
    incomingPort: p.incomingPort,
    incomingUseSsl: p.incomingUseSsl,
    outgoingServer: p.outgoingServer,
    outgoingPort: p.outgoingPort,
    outgoingSecurity: p.outgoingSecurity,
    authenticateUsing: p.authenticateUsing,
    oauthClientId: p.oauthClientId,
    hasClientSecret: Boolean(p.oauthClientSecret),
    isDefaultGmail: p.isDefaultGmail,
    googleAppInTesting: p.googleAppInTesting,
    maxConcurrentConnections: p.maxConcurrentConnections,
    minPollingIntervalMinutes: p.minPollingIntervalMinutes,
    processEmailFrom: p.processEmailFrom ? p.processEmailFrom.toISOString().slice(0, 10) : null,
    moveFailedToUndeliverable: p.moveFailedToUndeliverable,
    clientVerified: p.clientVerifiedAt
      ? { at: p.clientVerifiedAt.toISOString(), result: p.clientVerifiedResult ?? '', message: p.clientVerifiedMessage }
      : null,
    mailboxCount,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

const verdictJson = (v: ClientVerdict | null) =>
  v ? { result: v.result, label: VERDICT_LABELS[v.result] ?? v.result, message: v.message } : null;

/** The form's body: the starting values with the JSON laid over them, every value as the form would post it. */
function asForm(base: ProfileFormValues, body: ProfileBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...base, ...body }))
    out[k] = typeof v === 'boolean' ? (v ? 'on' : '') : v === null || v === undefined ? '' : String(v);
  return out;
}

const DUPLICATE = { name: 'An email server profile with this name already exists' };
const idParams = z.object({ id: z.uuid() });
const EXAMPLE: ProfileBody = {
  name: 'Gmail (IMAP)',
  serverType: 'IMAP',
  incomingServer: 'imap.gmail.com',
  incomingPort: 993,
  incomingUseSsl: true,
  outgoingServer: 'smtp.gmail.com',
  outgoingPort: 587,
  outgoingSecurity: 'STARTTLS',
  authenticateUsing: 'GMAIL_OAUTH',
  oauthClientId: '1234-abc.apps.googleusercontent.com',
  oauthClientSecret: 'GOCSPX-example',
};

export function profileOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  const saving = { prisma, sealer: deps.sealer, google: deps.google, publicUrl: deps.config.publicUrl };
  const load = async (id: string) => (await getProfile(prisma, id)) ?? Promise.reject(notFound());
  const usage = async (id: string) => (await profileUsage(prisma, [id])).get(id) ?? 0;
  const tag = 'Email server profiles';

  return [
    op({
      method: 'get',
      path: '/profiles',
      operationId: 'listProfiles',
      summary: 'List email server profiles',
      tag,
      access: 'read',
      admin: true,
      query: z.object({ q: z.string().max(200).optional().meta({ description: 'Part of the name.' }), ...pagingQuery }),
      responses: { 200: { description: 'A page of profiles, by name.', schema: pageOf(profileJson) } },
      async handle({ query }) {
        const values = decodeCursor(query.cursor, ['string', 'string']);
        const where: Prisma.EmailServerProfileWhereInput = {
          AND: [query.q ? { name: containsText(query.q) } : {}, after('name', 'asc', values)],
        };
        const rows = await prisma.emailServerProfile.findMany({
          where,
          orderBy: [{ name: 'asc' }, { id: 'asc' }],
          take: query.limit + 1,
        });
        const counts = await profileUsage(
          prisma,
          rows.map((r) => r.id),
        );
        return {
          status: 200,
          body: page(
            rows,
            query.limit,
            (r) => [r.name, r.id],
            (r) => toJson(r, counts.get(r.id) ?? 0),
          ),
        };
      },
    }),
    op({
      method: 'get',
      path: '/profiles/:id',
      operationId: 'getProfile',
      summary: 'Read an email server profile',
      tag,
      access: 'read',
      admin: true,
      params: idParams,
      responses: { 200: { description: 'The profile (never its Client Secret).', schema: profileJson } },
      async handle({ params }) {
        const p = await load(params.id);
        return { status: 200, body: toJson(p, await usage(p.id)) };
      },
    }),
    op({
      method: 'post',
      path: '/profiles',
      operationId: 'createProfile',
      summary: 'Create an email server profile',
      description: "Fields left out take the New profile form's defaults. The same rules and messages as the form.",
      tag,
      access: 'write',
      admin: true,
      body: profileBody,
      requestExample: EXAMPLE,
      responses: { 201: { description: 'Created.', schema: savedJson } },
      async handle({ body }, ctx) {
        const form = parseProfileForm(asForm(DEFAULT_VALUES, body), { hasStoredSecret: false });
        if (!form.ok) throw invalidFields(form.errors);
        try {
          const { profile, verdict } = await createAndVerify(saving, form, ctx.who);
          return {
            status: 201,
            headers: { Location: `/api/v1/profiles/${profile.id}` },
            body: { ...toJson(profile, 0), warnings: form.warnings, verifyClient: verdictJson(verdict) },
          };
        } catch (e) {
          if (e instanceof DuplicateProfileNameError) throw invalidFields(DUPLICATE);
          throw e;
        }
      },
    }),
    op({
      method: 'patch',
      path: '/profiles/:id',
      operationId: 'updateProfile',
      summary: 'Change an email server profile',
      description: 'Only the fields sent change; the result must still pass every rule of the Edit form.',
      tag,
      access: 'write',
      admin: true,
      params: idParams,
      body: profileBody,
      requestExample: { maxConcurrentConnections: 20 },
      responses: { 200: { description: 'Saved.', schema: savedJson } },
      async handle({ params, body }, ctx) {
        const before = await load(params.id);
        const form = parseProfileForm(asForm(formValuesFromProfile(before), body), {
          hasStoredSecret: Boolean(before.oauthClientSecret),
        });
        if (!form.ok) throw invalidFields(form.errors);
        try {
          const saved = await updateAndVerify(saving, before, form, ctx.who);
          if (!saved) throw notFound();
          return {
            status: 200,
            body: {
              ...toJson(saved.profile, await usage(before.id)),
              warnings: form.warnings,
              verifyClient: verdictJson(saved.verdict),
            },
          };
        } catch (e) {
          if (e instanceof DuplicateProfileNameError) throw invalidFields(DUPLICATE);
          throw e;
        }
      },
    }),
    op({
      method: 'delete',
      path: '/profiles/:id',
      operationId: 'deleteProfile',
      summary: 'Delete an unused email server profile',
      tag,
      access: 'write',
      admin: true,
      params: idParams,
      responses: {
        204: { description: 'Deleted.' },
        409: { description: 'Mailboxes still use it.' },
      },
      async handle({ params }, ctx) {
        const p = await load(params.id);
        const result = await deleteProfile(prisma, p.id, ctx.who);
        if (!result) throw notFound();
        if ('inUse' in result)
          throw new ApiProblem(
            409,
            `Email server profile ${p.name} is used by ${result.inUse} ${result.inUse === 1 ? 'mailbox' : 'mailboxes'}. Move them to another profile before deleting it.`,
          );
        return { status: 204 };
      },
    }),
  ];
}
