// Makes the embedded database's template data directory for the installed PGlite version (postinstall, after the
// build): a new data directory's first start copies it instead of running initdb (src/db/pglite-template.ts,
// decision 029). Run once per install; it peaks at PGlite's initdb memory (≈ 750 MB) for a few seconds.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/db/pglite-template.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('mailroom: dist/ is not built; the first start will run initdb itself.\n');
  process.exit(0);
}
const { buildPgliteTemplate, pgliteTemplateDir } = await import(compiled.href);
try {
  if (await buildPgliteTemplate())
    process.stderr.write(`mailroom: made the database template ${pgliteTemplateDir()}\n`);
} catch (e) {
  // Not fatal: without a template the first start runs initdb itself, as before.
  process.stderr.write(
    `mailroom: could not make the database template (${e.message}); the first start will run initdb itself.\n`,
  );
}
