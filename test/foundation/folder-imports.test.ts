/**
 * The lint rule local/folder-imports (eslint/folder-imports.js), through the
 * project's own eslint.config.js: a file in one folder that imports another
 * folder's inner file is an error; the same import through that folder's
 * index.ts, within the folder, or from an engine root module is not. Tests
 * are exempt: they may reach inside.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../engine/paths.js';

const RULE = 'local/folder-imports';
const eslint = new ESLint({ cwd: PACKAGE_ROOT, overrideConfigFile: join(PACKAGE_ROOT, 'eslint.config.js') });

/** The folder-imports messages for `code` linted as if it were the file `file` (repo-relative). */
async function folderImports(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: join(PACKAGE_ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('lint rule local/folder-imports', () => {
  it('flags an import that reaches inside another folder, naming the index to use', async () => {
    const messages = await folderImports("import { listShape } from '../client/lists.js';\nexport const shape = listShape;", 'engine/plan/example.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("'../client/lists.js' reaches inside engine/client/");
    expect(messages[0]).toContain('engine/client/index.js');
  });

  it('accepts the same name through the folder index', async () => {
    expect(await folderImports("import { listShape } from '../client/index.js';\nexport const shape = listShape;", 'engine/plan/example.ts')).toEqual([]);
  });

  it('sees type-only imports, re-exports, import() and import types', async () => {
    const code = [
      "import type { Params } from '../client/types.js';",
      "export { dryRun } from '../plan/dry-run.js';",
      "export const load = () => import('../rules/load-rules.js');",
      "export type Name = import('../rules/types.js').EntityName;",
      'export type P = Params;',
    ].join('\n');
    const messages = await folderImports(code, 'engine/testing/example.ts');
    expect(messages.map((m) => m.split(' reaches')[0])).toEqual(["'../client/types.js'", "'../plan/dry-run.js'", "'../rules/load-rules.js'", "'../rules/types.js'"]);
  });

  it('leaves imports within a folder, of engine root modules and from outside engine/ to an index alone', async () => {
    const code = [
      "import { renderText } from './render-text.js';",
      "import { B24RulesError } from '../errors.js';",
      "import { canonicalJson } from '../canonical-json.js';",
      'export { renderText, B24RulesError, canonicalJson };',
    ].join('\n');
    expect(await folderImports(code, 'engine/plan/example.ts')).toEqual([]);
    expect(await folderImports("export { createDaemon } from '../../engine/daemon/index.js';", 'cli/commands/example.ts')).toEqual([]);
    expect(await folderImports("export { createDaemon } from '../../engine/daemon/daemon.js';", 'cli/commands/example.ts')).toHaveLength(1);
  });

  it('does not apply to tests, which may reach inside', async () => {
    expect(await folderImports("export { listShape } from '../../engine/client/lists.js';", 'test/client/example.test.ts')).toEqual([]);
  });
});
