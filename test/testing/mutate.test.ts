/** Mutation operators of `rules test --mutate`: each makes one change to a rule's YAML, at the node's line:col. */
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { acceptOf, applyMutant, envDefaultMutation, formatMutationReport, mutantsOf, numberMutations, readAccepts, type RuleFileMutation } from '../../engine/testing/index.js';
import { loadRuleSource } from '../../engine/rules/index.js';

const RULE = `id: big-deal
trigger:
  event: ONCRMDEALADD
let:
  threshold: 5000000
condition:
  and:
    - "==": [{ var: deal.STAGE_SEMANTIC_ID }, P]
    - ">=": [{ var: deal.OPPORTUNITY }, { var: threshold }]
actions:
  - notify:
      user: "{{ env.DIRECTOR | default: 1 }}"
      message: "Deal {{ deal.ID }}"
env: [DIRECTOR]
---
id: small-deal
trigger:
  event: ONCRMDEALUPDATE
condition:
  or:
    - "<": [{ var: deal.OPPORTUNITY }, 10]
    - "!=": [{ var: deal.CURRENCY_ID }, RUB]
actions:
  - notify: { user: 1, message: small }
`;

/** The rule (document) a mutated file has at `doc`, as plain data. */
function ruleOf(text: string, doc: number): Record<string, unknown> {
  return parseAllDocuments(text)[doc]!.toJS() as Record<string, unknown>;
}

describe('mutantsOf', () => {
  const mutants = mutantsOf(RULE);
  const brief = mutants.map((m) => `${m.ruleId} ${m.line}:${m.col} ${m.operator} ${m.from} → ${m.to}`);

  it('lists one mutant per change, with the position of the node changed, in source order', () => {
    expect(brief).toEqual([
      'big-deal 5:14 threshold 5000000 → 4000000',
      'big-deal 5:14 threshold 5000000 → 6000000',
      'big-deal 7:3 logic and → or',
      'big-deal 8:7 drop-clause and clause 1 → dropped',
      'big-deal 9:7 drop-clause and clause 2 → dropped',
      'big-deal 8:7 comparison == → !=',
      'big-deal 8:47 literal P → P-mutant',
      'big-deal 9:7 comparison >= → >',
      'big-deal 12:13 env-default {{ env.DIRECTOR | default: 1 }} → 1',
      'small-deal 20:3 logic or → and',
      'small-deal 21:7 drop-clause or clause 1 → dropped',
      'small-deal 22:7 drop-clause or clause 2 → dropped',
      'small-deal 21:7 comparison < → <=',
      'small-deal 21:40 threshold 10 → 9',
      'small-deal 21:40 threshold 10 → 11',
      'small-deal 22:7 comparison != → ==',
      'small-deal 22:41 literal RUB → RUB-mutant',
    ]);
  });

  it('never mutates variable paths, plain values outside let/condition/when, or templates in conditions', () => {
    expect(brief.join('\n')).not.toMatch(/STAGE_SEMANTIC_ID|OPPORTUNITY|ONCRMDEAL|small →|Deal \{\{/);
  });

  it('applies each mutant as exactly one change, and the mutated file still loads', () => {
    const original = [ruleOf(RULE, 0), ruleOf(RULE, 1)];
    const byBrief = (prefix: string) => mutants[brief.findIndex((b) => b.startsWith(prefix))]!;
    const cases: Array<[string, number, unknown]> = [
      ['big-deal 5:14 threshold 5000000 → 4000000', 0, { ...original[0], let: { threshold: 4000000 } }],
      ['big-deal 7:3', 0, { ...original[0], condition: { or: (original[0]!.condition as { and: unknown[] }).and } }],
      ['big-deal 8:7 drop-clause', 0, { ...original[0], condition: { and: [{ '>=': [{ var: 'deal.OPPORTUNITY' }, { var: 'threshold' }] }] } }],
      ['big-deal 8:7 comparison', 0, { ...original[0], condition: { and: [{ '!=': [{ var: 'deal.STAGE_SEMANTIC_ID' }, 'P'] }, { '>=': [{ var: 'deal.OPPORTUNITY' }, { var: 'threshold' }] }] } }],
      ['big-deal 8:47', 0, { ...original[0], condition: { and: [{ '==': [{ var: 'deal.STAGE_SEMANTIC_ID' }, 'P-mutant'] }, { '>=': [{ var: 'deal.OPPORTUNITY' }, { var: 'threshold' }] }] } }],
      ['big-deal 12:13', 0, { ...original[0], actions: [{ notify: { user: '1', message: 'Deal {{ deal.ID }}' } }] }],
      ['small-deal 21:40 threshold 10 → 9', 1, { ...original[1], condition: { or: [{ '<': [{ var: 'deal.OPPORTUNITY' }, 9] }, { '!=': [{ var: 'deal.CURRENCY_ID' }, 'RUB'] }] } }],
    ];
    for (const [prefix, doc, expected] of cases) {
      const text = applyMutant(RULE, byBrief(prefix));
      expect(ruleOf(text, doc), prefix).toEqual(expected);
      expect(ruleOf(text, 1 - doc), `${prefix}: the other rule is untouched`).toEqual(original[1 - doc]);
    }
    for (const m of mutants) {
      const load = loadRuleSource(applyMutant(RULE, m), 'mutant.yaml');
      expect(load.diagnostics.filter((d) => d.severity === 'error'), `${m.line}:${m.col} ${m.from} → ${m.to}`).toEqual([]);
    }
  });
});

describe('value changes', () => {
  it('moves small integers by one and larger numbers by a fifth', () => {
    expect(numberMutations(14)).toEqual([13, 15]);
    expect(numberMutations(0)).toEqual([-1, 1]);
    expect(numberMutations(5_000_000)).toEqual([4_000_000, 6_000_000]);
    expect(numberMutations(0.5)).toEqual([0.4, 0.6]);
  });

  it('replaces an environment variable with its default, quoted or not', () => {
    expect(envDefaultMutation('{{ env.APPROVAL_TEMPLATE_ID | default: 17 }}')).toBe('17');
    expect(envDefaultMutation("id {{ env.X | default: 'a b' }}!")).toBe('id a b!');
    expect(envDefaultMutation('{{ env.X }}')).toBeUndefined();
  });
});

describe('accepted survivors (mutations.accept in a test file)', () => {
  const mutants = mutantsOf(RULE);
  const at = (line: number, col: number, to?: string) => mutants.find((m) => m.line === line && m.col === col && (to === undefined || m.to === to))!;

  it('matches a survivor by line, and by column, rule and change when given', () => {
    const accepts = readAccepts(
      `tests: []
mutations:
  accept:
    - { line: 5, col: 14, change: "→ 6000000", reason: "amounts above 6 million are not in the portal" }
    - { line: 22, rule: small-deal, reason: "  the currency is always RUB  " }
`,
      'big.test.yaml',
    );
    expect(accepts).toEqual([
      { line: 5, col: 14, change: '→ 6000000', reason: 'amounts above 6 million are not in the portal', source: 'big.test.yaml' },
      { line: 22, rule: 'small-deal', reason: 'the currency is always RUB', source: 'big.test.yaml' },
    ]);
    expect(acceptOf(accepts, at(5, 14, '6000000'))?.reason).toBe('amounts above 6 million are not in the portal');
    expect(acceptOf(accepts, at(5, 14, '4000000'))).toBeUndefined();
    expect(acceptOf(accepts, at(22, 7))?.reason).toBe('the currency is always RUB');
    expect(acceptOf(accepts, at(22, 41))?.reason).toBe('the currency is always RUB');
    expect(acceptOf(accepts, at(8, 7))).toBeUndefined();
  });

  it('a test file without mutations accepts nothing; an entry without a line or a reason is refused, naming it', () => {
    expect(readAccepts('tests: []\n', 'a.test.yaml')).toEqual([]);
    expect(() => readAccepts('mutations: { accept: [{ reason: x }] }\n', 'a.test.yaml')).toThrow('a.test.yaml: mutations.accept[0] needs the line of the mutant in the rule file');
    expect(() => readAccepts('mutations: { accept: [{ line: 3 }, { line: 4, reason: "" }] }\n', 'a.test.yaml')).toThrow('mutations.accept[0] needs a reason');
    expect(() => readAccepts('mutations: { accept: { line: 3 } }\n', 'a.test.yaml')).toThrow('a.test.yaml: mutations.accept must be a list');
  });
});

describe('a foreach filter', () => {
  const STALE = `id: stale
trigger:
  schedule: { cron: "0 9 * * 1-5", timezone: Europe/Moscow }
foreach:
  entity: deal
  as: deal
  filter:
    STAGE_SEMANTIC_ID: P
    CATEGORY_ID: 0
    "<DATE_MODIFY": "{{ schedule.at | add_days: -14 | iso }}"
  max_records: 500
actions:
  - notify: { user: 1, message: "{{ deal.ID }}" }
`;

  it('moves the comparison prefix of a key across its boundary and changes plain values, never templates or limits', () => {
    const mutants = mutantsOf(STALE);
    expect(mutants.map((m) => `${m.line}:${m.col} ${m.operator} ${m.from} → ${m.to}`)).toEqual([
      '8:24 literal P → P-mutant',
      '9:18 threshold 0 → -1',
      '9:18 threshold 0 → 1',
      '10:5 comparison <DATE_MODIFY → <=DATE_MODIFY',
    ]);
    const filter = (parseAllDocuments(applyMutant(STALE, mutants[3]!))[0]!.toJS() as { foreach: { filter: Record<string, unknown> } }).foreach.filter;
    expect(filter).toEqual({ STAGE_SEMANTIC_ID: 'P', CATEGORY_ID: 0, '<=DATE_MODIFY': '{{ schedule.at | add_days: -14 | iso }}' });
  });
});

describe('formatMutationReport', () => {
  it('gives the counts per file and per rule when a file has several, then a line per survivor', () => {
    const base = { doc: 0, file: 'rules/x.yaml', path: [] };
    const report: RuleFileMutation = {
      file: 'rules/x.yaml',
      tests: ['rules/x.test.yaml'],
      skipped: 0,
      limit: 40,
      unusedAccepts: [],
      unreachedAccepts: [],
      mutants: [
        { ...base, ruleId: 'a', operator: 'threshold', line: 5, col: 14, from: '10', to: '9', status: 'killed' },
        { ...base, ruleId: 'a', operator: 'literal', line: 6, col: 3, from: '', to: '-mutant', status: 'survived' },
        { ...base, ruleId: 'b', operator: 'logic', line: 20, col: 3, from: 'and', to: 'or', status: 'survived', accepted: 'both are always set' },
        { ...base, ruleId: 'b', operator: 'literal', line: 21, col: 9, from: 'i', to: 'i-mutant', status: 'invalid' },
      ],
    };
    expect(formatMutationReport(report)).toBe(
      [
        'rules/x.yaml (tests: rules/x.test.yaml)',
        '  mutants 3, killed 1, survivors 2 (1 accepted); 1 invalid (refused by the loader)',
        '    a: mutants 2, killed 1, survivors 1',
        '    b: mutants 1, killed 0, survivors 1 (1 accepted)',
        "  rules/x.yaml:6:3 '' → -mutant survived (literal, rule a)",
        '  rules/x.yaml:20:3 and → or survived (logic, rule b, accepted: both are always set)',
        '',
      ].join('\n'),
    );
  });
});
