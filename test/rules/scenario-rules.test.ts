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

describe('docs/rule-format.md', () => {
  it('its whole-rule example validates', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { PACKAGE_ROOT } = await import('../../engine/paths.js');
    const { loadRuleSource } = await import('../../engine/rules/index.js');
    const md = readFileSync(join(PACKAGE_ROOT, 'docs', 'rule-format.md'), 'utf8');
    const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^id: /m.test(b));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) {
      const r = loadRuleSource(b, 'docs/rule-format.md');
      expect(formatDiagnostics(r.diagnostics, 'text')).toBe('');
      expect(r.rules).toHaveLength(1);
    }
  });
});
