/**
 * The `matches` operator cannot be made to run for long (issue 13, item 9):
 * field values are attacker-controlled, and `.*.*.*=x` passed `rules validate`
 * then took ~35 s on 1,000 characters. Every pattern now either is refused when
 * the rule loads (with file:line:col) or runs on RE2, in time linear in the
 * input. The slow cases run in a subprocess (`rules dry-run` on 100,000-character
 * fields), so a regression to a backtracking engine fails on the CLI's ceiling
 * instead of hanging the test run; nothing here measures time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogicError, safeRegExp, unsafeReason } from '../../engine/logic/index.js';
import type { PlanDocument } from '../../engine/plan/types.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-regex-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** No portal in the environment: fixtures mode must not need one. */
const NO_PORTAL = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '' };
const N = 100_000;

/**
 * Patterns the static check accepts that backtrack polynomially, each with an
 * input that makes a backtracking engine take O(n³) or worse, the answer on it,
 * and a short input it matches.
 */
const POLYNOMIAL = [
  { pattern: '.*.*.*=x', evil: '='.repeat(N), evilMatches: false, hit: 'note=x' },
  { pattern: '\\s*#?\\s*$', evil: `${' '.repeat(N)}a`, evilMatches: true, hit: 'a #' },
  { pattern: '\\d+\\d+\\d+x', evil: '1'.repeat(N), evilMatches: false, hit: 'id 123x' },
  { pattern: '[a-z]*[a-z]*[a-z]*!', evil: 'a'.repeat(N), evilMatches: false, hit: 'hey!' },
  { pattern: 'a.*b.*c', evil: 'ab'.repeat(N / 2), evilMatches: false, hit: 'a-b-c' },
];

/** Catastrophic for a backtracking engine: refused when the rule loads, with the reason. */
const REFUSED: Array<[string, string]> = [
  ['(a+)+$', 'nested quantifiers'],
  ['(a|aa)+$', 'repeated alternation'],
  ['(x+x+)+y', 'nested quantifiers'],
  ['(\\w+\\s?)+$', 'nested quantifiers'],
  ['^(\\d+)*$', 'nested quantifiers'],
  ['(.*,)*x', 'nested quantifiers'],
  ['^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$', 'nested quantifiers'],
  ['(a)\\1', 'backreferences'],
  ['(?=a)a', 'lookahead'],
];

describe('patterns catastrophic for a backtracking engine', () => {
  it.each(REFUSED)('%s is refused: %s', (pattern, why) => {
    expect(unsafeReason(pattern)).toContain(why);
    expect(() => safeRegExp(pattern)).toThrow(LogicError);
  });

  it.each(POLYNOMIAL.map((p) => p.pattern))('%s passes the static check (it runs on RE2)', (pattern) => {
    expect(unsafeReason(pattern)).toBeUndefined();
  });

  it('rules validate refuses them with file:line:col and accepts .*.*.*=x', async () => {
    const file = join(tmp, 'patterns.yaml');
    const docs = [...REFUSED.map(([p]) => p), '.*.*.*=x'].map(
      (p, i) => `id: re-${i}\ntrigger: { event: ONCRMLEADADD }\ncondition:\n  matches: [{ var: lead.COMMENTS }, ${JSON.stringify(p)}]\nactions:\n  - stop: {}\n`,
    );
    writeFileSync(file, docs.join('---\n'));
    const r = await runCli(['validate', '--format', 'json', file]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; line: number; col: number; ruleId: string; message: string }> };
    expect(doc.diagnostics.map((d) => [d.ruleId, d.code])).toEqual(REFUSED.map((_, i) => [`re-${i}`, 'REGEX_UNSAFE']));
    // Each diagnostic points at the `matches:` line of its document (7 lines a document with its `---`, `matches` on the 4th).
    doc.diagnostics.forEach((d, i) => {
      expect([d.line, d.col]).toEqual([7 * i + 4, 3]);
      expect(d.message).toContain(REFUSED[i]![1]);
    });
  });
});

describe('patterns that pass the check run in linear time', () => {
  it('rules dry-run matches each pattern against 100,000-character fields and finishes with the right answers', async () => {
    const rulesFile = join(tmp, 'linear.yaml');
    writeFileSync(
      rulesFile,
      POLYNOMIAL.map(
        (p, i) => `id: re-${i}\ntrigger: { event: ONCRMLEADADD }\ncondition:\n  matches: [{ var: lead.COMMENTS }, ${JSON.stringify(p.pattern)}]\nactions:\n  - update: { entity: lead, id: "{{ lead.ID }}", fields: { TITLE: matched } }\n`,
      ).join('---\n'),
    );
    // Lead 100+i holds the evil input of pattern i, lead 200+i its short match.
    const leads = POLYNOMIAL.flatMap((p, i) => [
      { ID: String(100 + i), TITLE: 'evil', STATUS_ID: 'NEW', COMMENTS: p.evil },
      { ID: String(200 + i), TITLE: 'hit', STATUS_ID: 'NEW', COMMENTS: p.hit },
    ]);
    const events = leads.map((l, i) => ({ ID: String(i + 1), TIMESTAMP_X: '2026-11-24T08:40:00+03:00', EVENT_NAME: 'ONCRMLEADADD', EVENT_DATA: { FIELDS: { ID: l.ID } }, EVENT_ADDITIONAL: false, MESSAGE_ID: `m-${l.ID}` }));
    const fixtures = join(tmp, 'linear.fixtures.json');
    writeFileSync(fixtures, JSON.stringify({ leads, events }));

    const r = await runCli(['dry-run', rulesFile, '--fixtures', fixtures, '--at', '2026-11-24T09:00:00+03:00', '--format', 'json'], { env: NO_PORTAL });
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout) as PlanDocument;
    const value = (rule: string, lead: number) => plan.firings.find((f) => f.rule === rule && f.record?.id === String(lead))?.condition?.value;
    POLYNOMIAL.forEach((p, i) => {
      expect(value(`re-${i}`, 100 + i), `${p.pattern} on its evil input`).toBe(p.evilMatches);
      expect(value(`re-${i}`, 200 + i), `${p.pattern} on '${p.hit}'`).toBe(true);
    });
    // Every rule ran on every lead, the long fields included, without an error.
    expect(plan.firings).toHaveLength(POLYNOMIAL.length * leads.length);
    expect(plan.firings.filter((f) => f.error)).toEqual([]);
  });
});

describe('the RegExp the operator gets', () => {
  it('is a RegExp with the pattern as written, matching on RE2', () => {
    const re = safeRegExp('^(?<word>\\p{L}+) (\\d+)$', 'iu');
    expect(re).toBeInstanceOf(RegExp);
    expect([re.source, re.flags]).toEqual(['^(?<word>\\p{L}+) (\\d+)$', 'iu']);
    expect(re.test('Урал 42')).toBe(true);
    const m = re.exec('Урал 42');
    expect([m?.[0], m?.[1], m?.[2], m?.index, m?.groups?.word]).toEqual(['Урал 42', 'Урал', '42', 0, 'Урал']);
    expect('Урал 42'.match(re)?.[2]).toBe('42');
    expect('Урал 42'.replace(re, '$2 $1')).toBe('42 Урал');
  });

  it('keeps JavaScript flags: i (Unicode case folding), m, s', () => {
    expect(safeRegExp('сибир|урал', 'i').test('НОВОСИБИРСК')).toBe(true);
    expect(safeRegExp('^b$', 'm').test('a\nb')).toBe(true);
    expect(safeRegExp('^b$').test('a\nb')).toBe(false);
    expect(safeRegExp('a.b', 's').test('a\nb')).toBe(true);
    expect(safeRegExp('a.b').test('a\nb')).toBe(false);
  });

  it('refuses what RE2 cannot run although JavaScript can, as REGEX_INVALID', () => {
    try {
      safeRegExp('a{1001}');
      expect.unreachable('a{1001} compiled');
    } catch (err) {
      expect(err).toBeInstanceOf(LogicError);
      expect((err as LogicError).code).toBe('REGEX_INVALID');
      expect((err as LogicError).message).toContain('repetition');
    }
  });
});
