// /api/docs: Swagger UI, served from the swagger-ui-dist package on this server (no CDN), started by a script file
// of ours so the Content-Security-Policy needs no inline script. It reads /api/openapi.json.
import express, { Router } from 'express';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API documentation · Mailroom</title>
  <link rel="stylesheet" href="/api/docs/ui/swagger-ui.css">
</head>
<body>
  <p style="margin:1rem 1.25rem;font:15px system-ui,sans-serif"><a href="/">Mailroom</a> · Create a token under your account menu → <a href="/account/tokens">API tokens</a>, then select Authorize.</p>
  <div id="api-docs"></div>
  <script src="/api/docs/ui/swagger-ui-bundle.js"></script>
  <script src="/js/api-docs.js"></script>
</body>
</html>`;

export function docsRoutes(): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  r.use('/ui', express.static(UI, { index: false, maxAge: '1h' }));
  return r;
}
