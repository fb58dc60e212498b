// Where the project's files are (views, public, prisma/migrations), the same whether this module runs as TypeScript
// from src/ (tsx, tests) or compiled from dist/src/ (npm start): the nearest folder up that holds package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(import.meta.dirname);
