import { describe, expect, it } from 'vitest';
import { formatDiagnostics, formatSummary } from '../../engine/rules/format-diagnostics.js';
import type { Diagnostic, LoadResult } from '../../engine/rules/index.js';

const d: Diagnostic = { severity: 'error', code: 'CRON_INVALID', message: 'bad cron', file: 'rules/a.yaml', line: 3, col: 7, ruleId: 'nightly', path: '/trigger/schedule/cron', hint: 'e.g. "0 9 * * *"' };
const w: Diagnostic = { severity: 'warning', code: 'EVENT_UNKNOWN', message: "'X' is not known,\nreally", file: 'a,b:c.yaml', line: 1, col: 1 };

describe('formatDiagnostics', () => {
  it('text', () => {
    expect(formatDiagnostics([d, w], 'text')).toBe(`rules/a.yaml:3:7: error CRON_INVALID [nightly] bad cron\n  hint: e.g. "0 9 * * *"\na,b:c.yaml:1:1: warning EVENT_UNKNOWN 'X' is not known,\nreally\n`);
    expect(formatDiagnostics([], 'text')).toBe('');
  });

  it('github escapes properties and data', () => {
    expect(formatDiagnostics([d, w], 'github')).toBe(
      '::error file=rules/a.yaml,line=3,col=7,title=CRON_INVALID [nightly]::bad cron%0Ahint: e.g. "0 9 * * *"\n' + "::warning file=a%2Cb%3Ac.yaml,line=1,col=1,title=EVENT_UNKNOWN::'X' is not known,%0Areally\n",
    );
  });

  it('json carries a format version', () => {
    expect(JSON.parse(formatDiagnostics([d], 'json'))).toEqual({ format_version: 1, diagnostics: [d] });
  });

  it('never prints a secret that slipped into a message', () => {
    const leak: Diagnostic = { ...d, message: 'calling https://x.bitrix24.de/rest/1/abcdef123456/crm.deal.get failed' };
    for (const f of ['text', 'json', 'github'] as const) expect(formatDiagnostics([leak], f)).not.toContain('abcdef123456');
  });

  it('summary line', () => {
    const result: LoadResult = { rules: [], diagnostics: [d, w], files: [{ file: 'a', ok: false, ruleIds: [], rules: [{ id: 'nightly', ok: false, line: 1 }] }] };
    expect(formatSummary(result)).toBe('1 file, 1 rule: 0 valid, 1 invalid; 1 error, 1 warning');
  });
});
