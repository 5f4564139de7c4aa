/** Find `*.test.yaml` files under the given paths (files are taken as given), sorted. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputFileError } from '../plan/index.js';

const TEST_FILE = /\.test\.ya?ml$/;

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (TEST_FILE.test(e.name)) out.push(p);
  }
}

export function discoverTestFiles(paths: string[], cwd = process.cwd()): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new InputFileError('RULE_TEST_INVALID', p, undefined, 'no such file or directory');
    }
    if (st.isDirectory()) walk(abs, out);
    else out.push(abs);
  }
  return [...new Set(out)].sort();
}
