// A freshly initialized embedded data directory, made once per PGlite version at install (npm's postinstall runs
// scripts/pglite-template.mjs) and copied into a new data directory at its first start. PGlite's own initdb runs a
// second PostgreSQL instance next to the first, copies its whole WASM memory and restores it for every backend run:
// the process peaked at ≈ 800 MB for it (decision 029). Copying files needs no memory beyond the copy.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ROOT } from '../paths.ts';

export const PGLITE_VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }
).version;

/** Where the template of the installed PGlite version is kept (dist/ is made at install and never committed). */
export function pgliteTemplateDir(root = ROOT, version = PGLITE_VERSION): string {
  return join(root, 'dist', 'pglite-template', version);
}

/** True once a data directory holds a cluster (initdb, or a copy of the template, completed). */
const hasCluster = (dir: string) => existsSync(join(dir, 'PG_VERSION'));

/**
 * Makes the template (an initdb run, then a clean shutdown) unless it exists. Written under a temporary name and
 * renamed, so an interrupted run or two installs at once never leave half a template behind.
 */
export async function buildPgliteTemplate(dir = pgliteTemplateDir()): Promise<boolean> {
  if (hasCluster(dir)) return false;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const pglite = await PGlite.create({ dataDir: building });
  await pglite.close();
  if (hasCluster(dir)) rmSync(building, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(building, dir);
  }
  return true;
}

/**
 * A new data directory (missing or empty) gets a copy of the template; PGlite then opens it like any existing one.
 * Copied under a temporary name and renamed: a start killed halfway leaves no half-copied cluster. Returns false (and
 * PGlite runs initdb itself, as before) when there is no template for the installed version (installed with
 * --ignore-scripts) or the directory already holds something.
 */
export function seedFromTemplate(dataDir: string, template = pgliteTemplateDir()): boolean {
  if (!hasCluster(template)) return false;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
  const copying = join(dirname(dataDir), `.pglite-copying-${process.pid}`);
  rmSync(copying, { recursive: true, force: true });
  cpSync(template, copying, { recursive: true, preserveTimestamps: true });
  rmSync(dataDir, { recursive: true, force: true }); // an empty directory, if any
  renameSync(copying, dataDir);
  return true;
}
