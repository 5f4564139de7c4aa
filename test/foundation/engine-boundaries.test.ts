/**
 * engine/ is the library; the emulator, the demo, the CLI and the benchmarks
 * are applications around it. No file under engine/ may import from them
 * (static, type-only, re-export or dynamic `import()`): whoever needs the
 * emulator in the engine's path (dry-run fixtures, rule tests) injects it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';

const ENGINE = join(PACKAGE_ROOT, 'engine');
const FORBIDDEN = ['emulator', 'demo', 'cli', 'bench', 'test'];

/** Every module specifier in a source text: `from '...'`, `import '...'`, `import('...')`. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const re of [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of source.matchAll(re)) out.push(m[1] as string);
  }
  return out;
}

/** `file: specifier` for each import of `file` that resolves into a forbidden top-level folder. */
function violations(file: string, source: string): string[] {
  return specifiers(source)
    .filter((s) => s.startsWith('.'))
    .filter((s) => {
      const top = relative(PACKAGE_ROOT, resolve(dirname(file), s)).split(sep)[0] ?? '';
      return FORBIDDEN.includes(top);
    })
    .map((s) => `${relative(PACKAGE_ROOT, file)}: ${s}`);
}

function engineFiles(): string[] {
  return (readdirSync(ENGINE, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(ENGINE, f));
}

describe('engine/ boundaries', () => {
  it('no file under engine/ imports from emulator/, demo/, cli/, bench/ or test/', () => {
    const files = engineFiles();
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => violations(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the scan sees every import form', () => {
    const file = join(ENGINE, 'plan', 'example.ts');
    const source = [
      "import { startEmulator } from '../../emulator/index.js';",
      "import type { PortalData } from '../../emulator/portal-data.js';",
      "export { startDemo } from '../../demo/demo.js';",
      "import '../../cli/rules.js';",
      "const m = await import('../../bench/run.js');",
      "type T = import('../../emulator/types.js').Params;",
      "import { createClient } from '../client/index.js';",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(violations(file, source).map((v) => v.split(': ')[1])).toEqual([
      '../../emulator/index.js',
      '../../emulator/portal-data.js',
      '../../demo/demo.js',
      '../../cli/rules.js',
      '../../bench/run.js',
      '../../emulator/types.js',
    ]);
  });
});
