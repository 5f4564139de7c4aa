/** Human-readable output of `rules test`: a line per case, the diff under each failure, and the summary line. */
import type { TestResult } from './types.js';

function indent(text: string, by: string): string {
  return text.split('\n').map((l) => `${by}${l}`).join('\n');
}

/** The lines for one result (the file header is printed by the caller when the file changes). */
export function formatResult(r: TestResult): string {
  const ms = `${Math.round(r.duration)} ms`;
  switch (r.status) {
    case 'passed':
      return `  ✓ ${r.name} (${ms})\n`;
    case 'skipped':
      return `  - ${r.name} (skipped)\n`;
    default:
      return `  ✗ ${r.name}  (${r.file}:${r.line})\n${indent(r.failure ?? '', '      ')}\n`;
  }
}
