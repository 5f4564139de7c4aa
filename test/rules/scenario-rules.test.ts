/** The example rules in rules/ cannot go stale: every one of them must validate. Nothing is skipped. */
import { describe, expect, it } from 'vitest';
import { RULES_DIR } from '../../engine/paths.js';
import { formatDiagnostics, listRuleFiles, loadRules } from '../../engine/rules/index.js';

describe('rules/', () => {
  it('holds rule files, and every one validates without errors', async () => {
    const files = await listRuleFiles(RULES_DIR);
    expect(files.length, 'rules/ has no rule files yet').toBeGreaterThan(0);
    const result = await loadRules([RULES_DIR]);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(formatDiagnostics(errors, 'text')).toBe('');
    expect(result.files.map((f) => f.file)).toEqual(files);
    expect(result.files.every((f) => f.ok)).toBe(true);
    expect(result.rules.length).toBeGreaterThanOrEqual(files.length);
  });
});
