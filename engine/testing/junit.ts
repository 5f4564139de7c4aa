/** JUnit XML for `rules test --junit FILE` (one <testsuite> per test file), as CI systems read it. */
import type { TestResult } from './types.js';

/** Escape text for XML content and attributes; drop characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function renderJunit(results: TestResult[]): string {
  const byFile = new Map<string, TestResult[]>();
  for (const r of results) {
    const list = byFile.get(r.file) ?? [];
    list.push(r);
    byFile.set(r.file, list);
  }
  const count = (list: TestResult[], s: TestResult['status']): number => list.filter((r) => r.status === s).length;
  const total = (list: TestResult[]): number => list.reduce((n, r) => n + r.duration, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="rules test" tests="${results.length}" failures="${count(results, 'failed')}" errors="${count(results, 'error')}" skipped="${count(results, 'skipped')}" time="${seconds(total(results))}">`);
  for (const [file, list] of byFile) {
    out.push(`  <testsuite name="${xmlEscape(file)}" tests="${list.length}" failures="${count(list, 'failed')}" errors="${count(list, 'error')}" skipped="${count(list, 'skipped')}" time="${seconds(total(list))}">`);
    for (const r of list) {
      const open = `    <testcase classname="${xmlEscape(file)}" name="${xmlEscape(r.name)}" file="${xmlEscape(file)}" line="${r.line}" time="${seconds(r.duration)}"`;
      if (r.status === 'passed') {
        out.push(`${open}/>`);
      } else if (r.status === 'skipped') {
        out.push(`${open}>`, '      <skipped/>', '    </testcase>');
      } else {
        const tag = r.status === 'error' ? 'error' : 'failure';
        const first = (r.failure ?? '').split('\n')[0] ?? '';
        out.push(`${open}>`, `      <${tag} message="${xmlEscape(first)}">${xmlEscape(r.failure ?? '')}</${tag}>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
