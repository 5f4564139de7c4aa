/** Where the package's own files (schemas, catalog, example rules) live, from source (vitest) or from dist/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('b24-rules: cannot find the package root (package.json beside schemas/)');
}

/** Absolute path of the package root. */
export const PACKAGE_ROOT = findRoot();
export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas');
export const CATALOG_DIR = join(PACKAGE_ROOT, 'catalog');
export const RULES_DIR = join(PACKAGE_ROOT, 'rules');
