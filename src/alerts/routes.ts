// The Alerts page: every alert the user may see, filtered. Rows and filters are in ./list.ts.
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser } from '../auth/guards.ts';
import { alertList, alertListPage } from './list.ts';

export function alertRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.get('/', async (req, res) => {
    res.render('alerts/list', await alertListPage(prisma, currentUser(req), alertList.parse(req.query)));
  });
  return r;
}
