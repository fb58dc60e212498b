// Emails pages: the list and the email record. Who sees what is in ./access.ts, the pages' locals in ./list.ts and
// ./record.ts. Issue 12 adds New email and Reply here.
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser } from '../auth/guards.ts';
import { loadEmailForUser } from './access.ts';
import { emailList, emailListPage } from './list.ts';
import { bodyViewParam, emailRecordPage } from './record.ts';

export function emailRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  r.get('/', async (req, res) => {
    res.render('emails/list', await emailListPage(prisma, currentUser(req), emailList.parse(req.query)));
  });

  r.get('/:id', async (req, res) => {
    const email = await loadEmailForUser(prisma, currentUser(req), req.params.id);
    res.render('emails/show', emailRecordPage(email, bodyViewParam(req.query.view)));
  });

  return r;
}
