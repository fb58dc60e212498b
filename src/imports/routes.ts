// CSV import of mailboxes (admins): upload → preview of every row's check → Import (a background job) → live progress
// → summary, with the template and the rows not imported as CSV downloads. Rules in ./service.ts, the file in ./csv.ts.
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin } from '../auth/guards.ts';
import { HttpError } from '../web/errors.ts';
import { flash } from '../web/flash.ts';
import { COLUMNS, CsvFileError, csvLines, MAX_ROWS, templateCsv } from './csv.ts';
import { MAX_UPLOAD_BYTES } from './upload.ts';
import { createImport, importProgress, startImport } from './service.ts';

const idParam = z.uuid();
const PREVIEW_ROWS = 1_000;

export function importRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);

  const load = async (id: unknown) => {
    const parsed = idParam.safeParse(id);
    const p = parsed.success ? await importProgress(prisma, parsed.data) : null;
    if (!p) throw new HttpError(404, 'There is no such import.');
    return p;
  };

  const uploadPage = async (res: Response, o: { status?: number; error?: string } = {}) => {
    const recent = await prisma.mailboxImport.findMany({ orderBy: { createdAt: 'desc' }, take: 10 });
    res.status(o.status ?? 200).render('imports/upload', {
      title: 'Import mailboxes',
      columns: COLUMNS.map((c) => c.header),
      maxRows: MAX_ROWS,
      maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
      error: o.error ?? null,
      recent,
    });
  };

  r.get('/', (_req, res) => uploadPage(res));

  r.get('/template.csv', async (req, res) => {
    const profile = await prisma.emailServerProfile.findFirst({ orderBy: { name: 'asc' }, select: { name: true } });
    res
      .type('text/csv; charset=utf-8')
      .attachment('mailboxes-template.csv')
      .send(templateCsv({ ownerEmail: currentUser(req).email, profileName: profile?.name ?? 'Gmail' }));
  });

  r.post('/', async (req, res) => {
    if (res.locals.uploadError) return uploadPage(res, { status: 422, error: res.locals.uploadError as string });
    const file = req.file;
    if (!file?.size) return uploadPage(res, { status: 422, error: 'Choose a CSV file to upload.' });
    try {
      const imp = await createImport(deps, currentUser(req), { name: file.originalname, bytes: file.buffer });
      res.redirect(303, `/mailboxes/import/${imp.id}`);
    } catch (e) {
      if (!(e instanceof CsvFileError)) throw e;
      await uploadPage(res, { status: 422, error: e.message });
    }
  });

  r.get('/:id', async (req, res) => {
    const p = await load(req.params.id);
    const rows = await prisma.mailboxImportRow.findMany({
      where: {
        importId: p.imp.id,
        ...(p.imp.status === 'DONE' ? { status: { in: ['INVALID', 'FAILED', 'EXISTS'] } } : {}),
      },
      orderBy: { line: 'asc' },
      take: PREVIEW_ROWS,
    });
    res.render('imports/show', { title: `Import ${p.imp.fileName}`, ...p, rows, previewRows: PREVIEW_ROWS });
  });

  r.get('/:id/status.json', async (req, res) => {
    const p = await load(req.params.id);
    res
      .set('Cache-Control', 'no-store')
      .json({ status: p.imp.status, done: p.done, toImport: p.toImport, counts: p.counts });
  });

  r.post('/:id/start', async (req: Request<{ id: string }>, res: Response) => {
    const p = await load(req.params.id);
    if (!deps.jobs) throw new HttpError(503, 'Background jobs are not running on this server.');
    if (!p.counts.pending) {
      flash(req, 'error', 'No row of this file can be imported: fix the rows and upload the file again.');
      return res.redirect(303, `/mailboxes/import/${p.imp.id}`);
    }
    await deps.jobs.ready;
    const started = await startImport(deps, deps.jobs.boss, currentUser(req), p.imp.id);
    flash(req, started ? 'success' : 'info', started ? 'Import started.' : 'This import has already started.');
    res.redirect(303, `/mailboxes/import/${p.imp.id}`);
  });

  r.get('/:id/not-imported.csv', async (req, res) => {
    const p = await load(req.params.id);
    const rows = await prisma.mailboxImportRow.findMany({
      where: { importId: p.imp.id, status: { in: ['INVALID', 'FAILED', 'EXISTS'] } },
      orderBy: { line: 'asc' },
    });
    const base = p.imp.fileName.replace(/\.csv$/i, '').replace(/[^\w.-]+/g, '_') || 'import';
    res
      .type('text/csv; charset=utf-8')
      .attachment(`${base}-not-imported.csv`)
      .send(
        csvLines([
          ['Line', ...COLUMNS.map((c) => c.header), 'Result', 'Reason'],
          ...rows.map((r) => [
            String(r.line),
            ...COLUMNS.map((c) => r[c.field]),
            r.status === 'EXISTS' ? 'Skipped' : 'Not imported',
            r.reason ?? '',
          ]),
        ]),
      );
  });

  return r;
}
