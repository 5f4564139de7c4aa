/**
 * Table-driven: every file in test/fixtures/invalid-rules/ declares the
 * diagnostics it must produce in leading comments,
 *   # expect: CODE LINE:COL "message fragment"
 * and the loader must report exactly those (no more, no fewer), at exactly
 * those positions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../engine/rules/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'invalid-rules');
const EXPECT = /^# expect: ([A-Z_]+) (\d+):(\d+) "((?:[^"\\]|\\.)*)"\s*$/;

interface Expectation {
  code: string;
  line: number;
  col: number;
  fragment: string;
}

function expectations(file: string): Expectation[] {
  // latin1 so that the non-UTF-8 fixture's header is still readable.
  const lines = readFileSync(file, 'latin1').split('\n');
  const out: Expectation[] = [];
  for (const l of lines) {
    if (!l.startsWith('#')) break;
    const m = EXPECT.exec(l);
    if (m) out.push({ code: m[1]!, line: Number(m[2]), col: Number(m[3]), fragment: JSON.parse(`"${m[4]!}"`) as string });
  }
  return out;
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('invalid rule fixtures', () => {
  it('has fixtures, each with at least one expectation', () => {
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) expect(expectations(join(DIR, f)), f).not.toHaveLength(0);
  });

  it.each(files)('%s', async (name) => {
    const file = join(DIR, name);
    const want = expectations(file);
    const result = await loadRules([file]);
    const got = result.diagnostics.map((d) => ({ code: d.code, line: d.line, col: d.col, message: d.message }));
    for (const w of want) {
      const match = got.find((g) => g.code === w.code && g.line === w.line && g.col === w.col && g.message.includes(w.fragment));
      expect(match, `expected ${w.code} ${w.line}:${w.col} "${w.fragment}" in ${JSON.stringify(got, null, 2)}`).toBeDefined();
    }
    expect(got, 'unexpected extra diagnostics').toHaveLength(want.length);
    for (const d of result.diagnostics) {
      expect(d.file).toBe(file);
      expect(d.hint, `${d.code} has a hint`).toBeTruthy();
    }
    const onlyWarnings = result.diagnostics.every((d) => d.severity === 'warning');
    expect(result.files[0]?.ok).toBe(onlyWarnings);
    if (!onlyWarnings) expect(result.rules.map((r) => r.id)).toEqual([]);
  });
});
