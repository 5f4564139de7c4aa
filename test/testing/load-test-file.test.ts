import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTestFile } from '../../engine/testing/load-test-file.js';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rt-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('loading a test file', () => {
  it('resolves the default rule file, fixtures and clock, and the lines of cases', () => {
    const dir = dirWith({
      'x.yaml': 'id: x\n',
      'f.yaml': 'leads: []\n',
      'x.test.yaml': ['fixtures: f.yaml', 'at: "2026-11-24T09:00:00+03:00"', 'tests:', '  - name: one', '    event: { name: onCrmLeadAdd, id: 5 }', '    expect: { no_calls: true }', '  - name: two', '    at: "2026-11-25T09:00:00Z"', '    tick: true', '    expect: { calls: [{ method: crm.lead.update }] }', ''].join('\n'),
    });
    const f = loadTestFile(join(dir, 'x.test.yaml'), dir);
    expect(f.display).toBe('x.test.yaml');
    expect(f.rules).toEqual([join(dir, 'x.yaml')]);
    expect(f.cases.map((c) => [c.name, c.line, c.at])).toEqual([['one', 4, '2026-11-24T09:00:00+03:00'], ['two', 7, '2026-11-25T09:00:00Z']]);
    expect(f.cases[0]!.events).toEqual([{ name: 'ONCRMLEADADD', id: 5 }]);
    expect(f.cases[0]!.fixtures).toEqual({ file: join(dir, 'f.yaml') });
    expect(f.cases[1]!.tick).toBe(true);
  });

  it('says file:line and what is wrong for a schema error', () => {
    const dir = dirWith({ 'x.yaml': '', 'x.test.yaml': 'tests:\n  - name: one\n    event: { name: A }\n    expect:\n      call: []\n' });
    expect(() => loadTestFile(join(dir, 'x.test.yaml'), dir)).toThrow(/^x\.test\.yaml:5: \/tests\/0\/expect: unknown key 'call'/);
  });

  it('refuses two triggers, a missing clock, a missing rule file and missing fixtures', () => {
    const dir = dirWith({
      'x.yaml': '',
      'two.test.yaml': 'rules: x.yaml\nat: "2026-11-24T09:00:00Z"\ntests:\n  - name: one\n    event: { name: A }\n    tick: true\n    expect: { no_calls: true }\n',
      'noclock.test.yaml': 'rules: x.yaml\ntests:\n  - name: one\n    event: { name: A }\n    expect: { no_calls: true }\n',
      'orphan.test.yaml': 'tests:\n  - name: one\n    expect: { error: { code: SCHEMA } }\n',
      'nofx.test.yaml': 'rules: x.yaml\nfixtures: nope.yaml\ntests:\n  - name: one\n    expect: { error: { code: SCHEMA } }\n',
    });
    expect(() => loadTestFile(join(dir, 'two.test.yaml'), dir)).toThrow(/two\.test\.yaml:4: test 'one': give one of event, events, schedule, tick, webhook or manual, not event and tick/);
    expect(() => loadTestFile(join(dir, 'noclock.test.yaml'), dir)).toThrow(/noclock\.test\.yaml:3: test 'one': no clock/);
    expect(() => loadTestFile(join(dir, 'orphan.test.yaml'), dir)).toThrow(/no rule file orphan\.yaml beside the test/);
    expect(() => loadTestFile(join(dir, 'nofx.test.yaml'), dir)).toThrow(/nofx\.test\.yaml:2: fixtures file not found: nope\.yaml/);
  });

  it('checks inline fixtures, naming the line in the test file', () => {
    const dir = dirWith({ 'x.yaml': '', 'x.test.yaml': 'at: "2026-11-24T09:00:00Z"\ntests:\n  - name: one\n    event: { name: A }\n    fixtures:\n      leads: []\n      deels: []\n    expect: { no_calls: true }\n' });
    expect(() => loadTestFile(join(dir, 'x.test.yaml'), dir)).toThrow(/^x\.test\.yaml:7: unknown key 'deels'/);
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = dirWith({ 'x.yaml': '', 'x.test.yaml': 'tests:\n  - name: [unclosed\n' });
    expect(() => loadTestFile(join(dir, 'x.test.yaml'), dir)).toThrow(/^x\.test\.yaml:[23]: YAML syntax/);
  });
});
