/** The formats of `rules diff`: text, json, markdown (a PR comment, cut with counts) and github annotations; and where a rule changed. */
import { describe, expect, it } from 'vitest';
import { diffPlans, firstChangedLine, MARKDOWN_DIFF_LIMITS, PLAN_DIFF_FORMAT_VERSION, renderDiff, ruleSpans, type DiffRuleInfo, type PlanCall, type PlanDiff, type PlanDocument, type PlanFiring } from '../../engine/plan/index.js';
import { samplePlan } from './sample-plan.js';

const RULES: DiffRuleInfo[] = [
  { id: 'route-leads-inbound', hash: 'h1', file: 'rules/03-route-leads.yaml', line: 120 },
  { id: 'route-leads-key-accounts', hash: 'h2', file: 'rules/03-route-leads.yaml', line: 31, changedLine: 44 },
];

/** The sample plan against a change that assigns lead 101 to user 13, plus `extra` more leads whose runs appear. */
function changed(extra = 0): PlanDiff {
  const head: PlanDocument = samplePlan();
  const f = head.firings.find((x) => x.rule === 'route-leads-key-accounts') as PlanFiring;
  const update = f.calls[0] as PlanCall;
  update.params = { id: '101', fields: { ASSIGNED_BY_ID: 13 } };
  update.changes = [{ field: 'ASSIGNED_BY_ID', before: '1', after: 13 }];
  for (let i = 0; i < extra; i++) {
    head.firings.push({ ...f, trigger: { kind: 'event', event: 'ONCRMLEADADD', key: `dry-run:event:${i + 2}` }, record: { entity: 'lead', id: String(200 + i) } });
  }
  return diffPlans({ base: { label: 'origin/main', rules: RULES }, head: { label: 'working tree', rules: RULES }, inputs: [{ label: 'rules/fixtures/03-route-leads.fixtures.yaml', base: samplePlan(), head }] });
}

describe('rules diff formats', () => {
  it('text: the rule with its place and changed line, the run, the call and the field before → after, then the totals', () => {
    const text = renderDiff(changed(), 'text');
    expect(text).toContain('~ rule route-leads-key-accounts  (rules/03-route-leads.yaml:31, changed at line 44): runs +0 −0 ~1, calls +0 −0 ~1');
    expect(text).toContain('~ lead 101 "Order, 50% off", event ONCRMLEADADD (dry-run:event:1)');
    expect(text).toContain('lead 101 ASSIGNED_BY_ID: 12 → 13');
    expect(text).toContain('fields.ASSIGNED_BY_ID: 12 → 13');
    expect(text.trimEnd().split('\n').pop()).toBe('1 rule differs (1 changed): runs 0 added, 0 removed, 1 changed; calls 0 added, 0 removed, 1 changed.');
  });

  it('json: the diff itself with its format_version, keys sorted', () => {
    const json = JSON.parse(renderDiff(changed(), 'json')) as PlanDiff;
    expect(json.format_version).toBe(PLAN_DIFF_FORMAT_VERSION);
    expect(json.rules[0]?.runs[0]?.fields).toEqual([{ field: 'ASSIGNED_BY_ID', base: 12, head: 13, target: 'lead 101' }]);
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
  });

  it('markdown: a headline, a table row per rule, the runs in a diff block with - and + lines; cut with a count of what was left out', () => {
    const md = renderDiff(changed(), 'markdown');
    expect(md.startsWith('### b24-rules diff\n\n**1 rule differs')).toBe(true);
    expect(md).toContain('| rule | change | runs + / − / ~ | calls + / − / ~ | records |');
    expect(md).toContain('| `route-leads-key-accounts` <sub>rules/03-route-leads.yaml:44</sub> | changed | 0 / 0 / 1 | 0 / 0 / 1 | lead 101 |');
    expect(md).toMatch(/```diff\n~ lead 101 [^\n]*\n- {3}lead 101 ASSIGNED_BY_ID: 12\n\+ {3}lead 101 ASSIGNED_BY_ID: 13\n/);
    expect(md).not.toContain('more run');

    const many = MARKDOWN_DIFF_LIMITS.detailedRuns + 7;
    const big = renderDiff(changed(many), 'markdown');
    expect(big).toContain(`| changed | ${many} / 0 / 1 | ${many * 2} / 0 / 1 | lead 101, lead 200, lead 201, lead 202, lead 203 and ${many + 1 - MARKDOWN_DIFF_LIMITS.recordsPerRow} more |`);
    expect(big.match(/^[~+] lead \d+/gm)).toHaveLength(MARKDOWN_DIFF_LIMITS.detailedRuns);
    expect(big).toContain(`… and ${many + 1 - MARKDOWN_DIFF_LIMITS.detailedRuns} more runs of \`route-leads-key-accounts\`.`);
    expect(big).toContain(`${many + 1 - MARKDOWN_DIFF_LIMITS.detailedRuns} runs not shown here: \`rules diff --format json\` has them all.`);
  });

  it('github: a notice on the first changed line of each rule that differs, then the text diff for the log', () => {
    const out = renderDiff(changed(), 'github');
    const lines = out.split('\n');
    expect(lines[0]).toBe('::notice file=rules/03-route-leads.yaml,line=44,title=route-leads-key-accounts%3A 1 run differs::runs +0 −0 ~1, calls +0 −0 ~1%0A~ lead 101 "Order, 50%25 off", event ONCRMLEADADD (dry-run:event:1)');
    expect(lines[1]?.startsWith('Diff of the rules against origin/main')).toBe(true);
    expect(lines.filter((l) => l.startsWith('::'))).toHaveLength(1);
  });

  it('many inputs are summed up in the header, a few are listed', () => {
    const inputs = ['a', 'b', 'c', 'd'].map((x) => ({ label: `rules/fixtures/${x}.fixtures.yaml`, base: samplePlan(), head: { ...samplePlan(), source: { mode: 'fixtures' as const, fixtures: `rules/fixtures/${x}.fixtures.yaml` } } }));
    const many = diffPlans({ base: { label: 'origin/main', rules: RULES }, head: { label: 'working tree', rules: RULES }, inputs });
    expect(renderDiff(many, 'text').split('\n')[0]).toBe('Diff of the rules against origin/main at 2026-11-24T06:00:00.000Z on 4 inputs (fixtures rules/fixtures/a.fixtures.yaml … rules/fixtures/d.fixtures.yaml): 4 events, 0 schedule ticks.');
    const few = diffPlans({ base: { label: 'origin/main', rules: RULES }, head: { label: 'working tree', rules: RULES }, inputs: inputs.slice(0, 2) });
    expect(renderDiff(few, 'text').split('\n')[0]).toBe('Diff of the rules against origin/main at 2026-11-24T06:00:00.000Z on fixtures rules/fixtures/a.fixtures.yaml (1 event, 0 schedule ticks); fixtures rules/fixtures/b.fixtures.yaml (1 event, 0 schedule ticks).');
  });

  it('no differences: one headline, and no annotation', () => {
    const same = diffPlans({ base: { label: 'origin/main', rules: RULES }, head: { label: 'working tree', rules: RULES }, inputs: [{ label: 'x', base: samplePlan(), head: samplePlan() }] });
    expect(renderDiff(same, 'text').trimEnd().split('\n').pop()).toBe('No differences: the change plans the same 2 runs as origin/main.');
    expect(renderDiff(same, 'github').split('\n').filter((l) => l.startsWith('::'))).toEqual([]);
  });
});

describe('where a rule changed', () => {
  const base = ['# a comment', 'id: one', 'trigger: { event: ONCRMLEADADD }', 'actions:', '  - notify: { user: 1, message: hi }', '---', '# the second', 'id: two', 'actions: []', ''].join('\n');

  it('spans run from a rule\'s id: line to before the next document\'s ---', () => {
    expect([...ruleSpans(base, [{ id: 'one', line: 2 }, { id: 'two', line: 8 }])]).toEqual([
      ['one', { start: 2, end: 5 }],
      ['two', { start: 8, end: 10 }],
    ]);
  });

  it('the first differing line of the rule in the change, undefined when the rule is the same text', () => {
    const head = base.replace('message: hi', 'message: hello').replace('# a comment', '# a comment\n# one more line above');
    const b = { text: base, ...(ruleSpans(base, [{ id: 'one', line: 2 }, { id: 'two', line: 8 }]).get('one') as { start: number; end: number }) };
    const h = { text: head, ...(ruleSpans(head, [{ id: 'one', line: 3 }, { id: 'two', line: 9 }]).get('one') as { start: number; end: number }) };
    expect(firstChangedLine(b, h)).toBe(6);
    expect(firstChangedLine(b, b)).toBeUndefined();
  });
});
