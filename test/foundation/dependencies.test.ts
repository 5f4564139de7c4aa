/**
 * Dependency hygiene: every package the shipped code imports at run time (engine/, cli/, emulator/,
 * demo/) is a dependency, and a package only tests and benchmarks use is a dev dependency (json-logic-js:
 * the logic parity test and the logic bench; prom-client is the one /metrics runs on).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const RUNTIME = ['engine', 'cli', 'emulator', 'demo'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The package of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Packages imported by value (type-only imports are erased by tsc). */
function imported(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"./][^'"]*)['"]/gm)) out.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)) out.push(m[1] as string);
  return out.filter((s) => !s.startsWith('node:') && !builtinModules.includes(s)).map(packageOf);
}

describe('dependencies', () => {
  it('every package the shipped code imports at run time is a dependency', () => {
    const missing: string[] = [];
    for (const dir of RUNTIME) {
      for (const file of files(join(PACKAGE_ROOT, dir))) {
        for (const name of imported(readFileSync(file, 'utf8'))) {
          if (!Object.hasOwn(pkg.dependencies, name)) missing.push(`${relative(PACKAGE_ROOT, file)}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('json-logic-js is a dev dependency imported by no run-time code; prom-client is a dependency', () => {
    expect(pkg.devDependencies['json-logic-js']).toBeDefined();
    expect(pkg.dependencies['json-logic-js']).toBeUndefined();
    expect(pkg.dependencies['prom-client']).toBeDefined();
    const users = RUNTIME.flatMap((dir) => files(join(PACKAGE_ROOT, dir))).filter((f) => imported(readFileSync(f, 'utf8')).includes('json-logic-js'));
    expect(users).toEqual([]);
    expect(imported("import jsonLogic from 'json-logic-js';\nimport type { X } from 'zod';\nconst m = await import('prom-client/lib/x');")).toEqual(['json-logic-js', 'prom-client']);
  });
});
