import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../engine/testing/junit.js';

describe('JUnit XML', () => {
  it('groups by file, counts, escapes and carries the failure text', () => {
    const xml = renderJunit([
      { file: 'rules/a.test.yaml', name: 'acts on <big> & "small"', line: 4, status: 'passed', duration: 12 },
      { file: 'rules/a.test.yaml', name: 'does not act', line: 9, status: 'failed', failure: 'expected 0 calls, planned 1:\n  + 1. x', duration: 3 },
      { file: 'rules/b.test.yaml', name: 'skipped one', line: 2, status: 'skipped', duration: 0 },
    ]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="rules test" tests="3" failures="1" errors="0" skipped="1"/);
    expect(xml).toContain('<testsuite name="rules/a.test.yaml" tests="2" failures="1" errors="0" skipped="0" time="0.015">');
    expect(xml).toContain('name="acts on &lt;big&gt; &amp; &quot;small&quot;"');
    expect(xml).toContain('<failure message="expected 0 calls, planned 1:">expected 0 calls, planned 1:\n  + 1. x</failure>');
    expect(xml).toContain('<skipped/>');
  });
});
