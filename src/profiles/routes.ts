// Admin pages for email server profiles: list, new (optionally from a Gmail preset), view, edit, delete, Verify client.
import { Router, type Request } from 'express';
import type { AppDeps } from '../deps.ts';
import { requireAdmin } from '../auth/guards.ts';
import { actorOf } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';
import { DEFAULT_VALUES, parseProfileForm, type ParsedForm } from './form.ts';
import { isPresetName, presetValues } from './presets.ts';
import { redirectPanel } from './redirect-uri.ts';
import { listProfiles, profileList } from './list.ts';
import { deleteProfile, getProfile, profileUsage, DuplicateProfileNameError } from './service.ts';
import { createAndVerify, updateAndVerify } from './save.ts';
import { deletePage, editPage, formPage, listPage, showPage } from './pages.ts';
import { profileAlerts } from '../alerts/profile.ts';
import { verifyClient, type ClientVerdict } from './verify-client.ts';

const DUPLICATE = { name: 'An email server profile with this name already exists' };

function presetOf(req: Request) {
  const name = isPresetName(req.query.preset) ? req.query.preset : null;
  return { name, values: name ? presetValues(name, req.query.smtp === '465' ? 'ssl' : 'starttls') : {} };
}

function flashWarnings(req: Request, form: ParsedForm): void {
  for (const text of Object.values(form.warnings)) flash(req, 'warning', text);
}

function flashVerdict(req: Request, v: ClientVerdict | null): void {
  if (v)
    flash(
      req,
      v.result === 'VALID' ? 'success' : v.result === 'INVALID' ? 'error' : 'warning',
      `Verify client: ${v.message}`,
    );
}

export function profileRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);

  const load = async (id: string) => {
    const p = await getProfile(prisma, id);
    if (!p) throw new HttpError(404, 'No such email server profile.');
    return p;
  };
  const panel = (req: Request) => redirectPanel(deps.config.publicUrl, req.get('host'), req.get('x-forwarded-host'));
  const usage = async (id: string) => (await profileUsage(prisma, [id])).get(id) ?? 0;
  const verifying = { prisma, sealer: deps.sealer, google: deps.google, publicUrl: deps.config.publicUrl };

  r.get('/', async (req, res) => {
    res.render('profiles/list', listPage(await listProfiles(deps.db.raw, profileList.parse(req.query))));
  });

  r.get('/new', (req, res) => {
    const preset = presetOf(req);
    res.render(
      'profiles/form',
      formPage({ values: { ...DEFAULT_VALUES, ...preset.values }, panel: panel(req), preset: preset.name }),
    );
  });

  r.post('/', async (req, res) => {
    const form = parseProfileForm(req.body ?? {}, { hasStoredSecret: false });
    if (!form.ok) return res.status(422).render('profiles/form', formPage({ ...form, panel: panel(req) }));
    try {
      const { profile: p, verdict } = await createAndVerify(verifying, form, actorOf(req));
      flash(req, 'success', `Email server profile ${p.name} created.`);
      flashWarnings(req, form);
      flashVerdict(req, verdict);
      res.redirect(303, `/profiles/${p.id}`);
    } catch (e) {
      if (!(e instanceof DuplicateProfileNameError)) throw e;
      res.status(422).render('profiles/form', formPage({ ...form, errors: DUPLICATE, panel: panel(req) }));
    }
  });

  r.get('/:id', async (req, res) => {
    const p = await load(req.params.id);
    res.render('profiles/show', showPage(p, await usage(p.id), panel(req), await profileAlerts(prisma, p.id)));
  });

  r.get('/:id/edit', async (req, res) => {
    const preset = presetOf(req);
    res.render('profiles/form', editPage(await load(req.params.id), panel(req), preset.values, preset.name));
  });

  r.post('/:id', async (req, res) => {
    const before = await load(req.params.id);
    const form = parseProfileForm(req.body ?? {}, { hasStoredSecret: Boolean(before.oauthClientSecret) });
    if (!form.ok)
      return res.status(422).render('profiles/form', formPage({ ...form, profile: before, panel: panel(req) }));
    try {
      const saved = await updateAndVerify(verifying, before, form, actorOf(req));
      if (!saved) throw new HttpError(404, 'No such email server profile.');
      flash(
        req,
        'success',
        saved.changed.length || form.secret.kind !== 'keep'
          ? `Email server profile ${saved.profile.name} saved.`
          : 'No changes to save.',
      );
      flashWarnings(req, form);
      flashVerdict(req, saved.verdict); // a new Client Id or Client Secret is verified at Google at once (save.ts)
      res.redirect(303, `/profiles/${before.id}`);
    } catch (e) {
      if (!(e instanceof DuplicateProfileNameError)) throw e;
      res
        .status(422)
        .render('profiles/form', formPage({ ...form, errors: DUPLICATE, profile: before, panel: panel(req) }));
    }
  });

  r.post('/:id/verify-client', async (req, res) => {
    const p = await load(req.params.id);
    const verdict = await verifyClient(verifying, p, actorOf(req), 'manual');
    if (!verdict) flash(req, 'error', 'Only a Gmail OAuth profile with a Client Id and Client Secret can be verified.');
    flashVerdict(req, verdict);
    res.redirect(303, `/profiles/${p.id}`);
  });

  r.get('/:id/delete', async (req, res) => {
    const p = await load(req.params.id);
    res.render('profiles/delete', deletePage(p, await usage(p.id)));
  });

  r.post('/:id/delete', async (req, res) => {
    const p = await load(req.params.id);
    const result = await deleteProfile(prisma, p.id, actorOf(req));
    if (!result) throw new HttpError(404, 'No such email server profile.');
    if ('inUse' in result) {
      flash(
        req,
        'error',
        `Email server profile ${p.name} is used by ${result.inUse} ${result.inUse === 1 ? 'mailbox' : 'mailboxes'}. Move them to another profile before deleting it.`,
      );
      return res.redirect(303, `/profiles/${p.id}`);
    }
    flash(req, 'success', `Email server profile ${p.name} deleted.`);
    res.redirect(303, '/profiles');
  });

  return r;
}
