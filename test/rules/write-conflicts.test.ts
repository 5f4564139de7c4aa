/**
 * WRITE_CONFLICT: two rules that can write the same field of the same record
 * on the same trigger. The planted conflict through `rules validate` as a
 * subprocess (text, json, github); what is exempt through the loader and the
 * check as `rules validate` calls them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkWriteConflicts, loadRules } from '../../engine/rules/index.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-conflicts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A file in a folder of its own. */
function write(name: string, text: string): string {
  const dir = join(tmp, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A rule on ONCRMLEADADD that assigns the lead; `extra` goes at the top level, `when` on the update. */
function rule(id: string, opts: { extra?: string; condition?: string; user?: string | number; trigger?: string; id?: string; comment?: string; when?: string } = {}): string {
  return [
    `id: ${id}`,
    `trigger: ${opts.trigger ?? '{ event: ONCRMLEADADD }'}`,
    ...(opts.extra ? [opts.extra] : []),
    ...(opts.condition ? [`condition: ${opts.condition}`] : []),
    'actions:',
    '  - update:',
    '      entity: lead',
    `      id: "${opts.id ?? '{{ lead.ID }}'}"`,
    '      fields:',
    ...(opts.comment ? [`        ${opts.comment}`] : []),
    `        ASSIGNED_BY_ID: ${opts.user ?? 12}`,
    ...(opts.when ? [`    when: ${opts.when}`] : []),
    '',
  ].join('\n');
}

async function conflictsOf(text: string) {
  const file = write('rules.yaml', text);
  const result = await loadRules([file]);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return checkWriteConflicts(result.rules);
}

describe('rules validate: two rules writing the same field (WRITE_CONFLICT)', () => {
  it('warns about a planted conflict with both locations, and not when the rules are one group (subprocess)', async () => {
    const file = write('assign.yaml', `${rule('assign-a')}---\n${rule('assign-b', { user: 15 })}`);
    const r = await runCli(['validate', file]);
    expect(r.code, r.stderr).toBe(0);
    // assign-a's field is on line 8, assign-b's document starts on line 10: its field is on line 17.
    expect(r.stdout).toContain(
      `${file}:17:9: warning WRITE_CONFLICT [assign-b] 'assign-b' and 'assign-a' can both write lead ASSIGNED_BY_ID on ONCRMLEADADD: here and at ${file}:8:9 (assign-a); which value stays depends on the order they run in\n  hint: put both rules in one group:`,
    );
    expect(r.stdout).toContain('# b24-rules: allow-conflict assign-a');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 file, 2 rules: 2 valid, 0 invalid; 0 errors, 1 warning');

    const json = await runCli(['validate', '--format', 'json', file]);
    const doc = JSON.parse(json.stdout) as { diagnostics: Array<Record<string, unknown>>; summary: { warnings: number } };
    expect(doc.summary.warnings).toBe(1);
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'WRITE_CONFLICT',
        file,
        line: 17,
        col: 9,
        ruleId: 'assign-b',
        path: '/actions/0/update/fields/ASSIGNED_BY_ID',
        related: [{ file, line: 8, col: 9, ruleId: 'assign-a', path: '/actions/0/update/fields/ASSIGNED_BY_ID' }],
      }),
    ]);

    const gh = await runCli(['validate', '--format', 'github', file]);
    expect(gh.stdout).toMatch(/^::warning file=.*assign\.yaml,line=17,col=9,title=WRITE_CONFLICT \[assign-b\]::'assign-b' and 'assign-a' can both write lead ASSIGNED_BY_ID on ONCRMLEADADD: here and at .*assign\.yaml:8:9 \(assign-a\)/m);

    const grouped = write('assign.yaml', `${rule('assign-a', { extra: 'group: assign\npriority: 1' })}---\n${rule('assign-b', { user: 15, extra: 'group: assign\npriority: 2' })}`);
    const g = await runCli(['validate', grouped]);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toBe('1 file, 2 rules: 2 valid, 0 invalid; 0 errors, 0 warnings\n');
  });

  it('compares rules across files, at the later rule', async () => {
    const a = write('a.yaml', rule('first'));
    const b = join(a, '..', 'b.yaml');
    writeFileSync(b, rule('second', { user: 15 }));
    const found = checkWriteConflicts((await loadRules([join(a, '..')])).rules);
    expect(found.map((d) => [d.file, d.line, d.ruleId, d.related[0]?.file, d.related[0]?.line])).toEqual([[b, 8, 'second', a, 8]]);
  });

  it('is silent for a group, different priorities, exclusive conditions, the same value, and a silencing comment', async () => {
    const pair = (a: Parameters<typeof rule>[1], b: Parameters<typeof rule>[1]) => conflictsOf(`${rule('rule-a', a)}---\n${rule('rule-b', { user: 15, ...b })}`);
    expect(await pair({}, {})).toHaveLength(1);
    expect(await pair({ extra: 'priority: 1' }, { extra: 'priority: 2' })).toEqual([]);
    // Equal priorities leave the load order to decide (an unwritten one is 0): still a conflict.
    expect(await pair({ extra: 'priority: 0' }, {})).toHaveLength(1);
    expect(await pair({ extra: 'priority: 3' }, { extra: 'priority: 3' })).toHaveLength(1);
    expect(await pair({ condition: '{ ">=": [{ var: lead.OPPORTUNITY }, 1000000] }' }, { condition: '{ "<": [{ var: lead.OPPORTUNITY }, 1000000] }' })).toEqual([]);
    expect(await pair({ condition: '{ ">=": [{ var: lead.OPPORTUNITY }, 1000000] }' }, { condition: '{ "<=": [{ var: lead.OPPORTUNITY }, 1000000] }' })).toHaveLength(1);
    expect(await pair({ condition: '{ "==": [{ var: lead.SOURCE_ID }, WEB] }' }, { condition: '{ and: [{ "==": [{ var: lead.SOURCE_ID }, PARTNER] }, { ">": [{ var: lead.OPPORTUNITY }, 0] }] }' })).toEqual([]);
    expect(await pair({ condition: '{ "==": [{ var: lead.SOURCE_ID }, WEB] }' }, { when: '{ "!=": [{ var: lead.SOURCE_ID }, WEB] }' })).toEqual([]);
    // A test and its negation, through a let both rules define alike.
    const region = 'let: { region: { lower: [{ var: lead.ADDRESS_REGION }] } }';
    expect(await pair({ extra: region, condition: '{ matches: [{ var: region }, "ural"] }' }, { extra: region, condition: '{ "!": [{ matches: [{ var: region }, "ural"] }] }' })).toEqual([]);
    // The same let name computed differently in each rule proves nothing.
    expect(await pair({ extra: region, condition: '{ matches: [{ var: region }, "ural"] }' }, { extra: 'let: { region: { var: lead.TITLE } }', condition: '{ "!": [{ matches: [{ var: region }, "ural"] }] }' })).toHaveLength(1);
    // "5" and 5 are equal to json-logic's ==: not exclusive.
    expect(await pair({ condition: '{ "==": [{ var: lead.STATUS_ID }, 5] }' }, { condition: '{ "==": [{ var: lead.STATUS_ID }, "5"] }' })).toHaveLength(1);
    expect(await pair({}, { user: 12 })).toEqual([]);
    // A shadow rule journals its calls and never sends them.
    expect(await pair({}, { extra: 'mode: shadow' })).toEqual([]);
    expect(await pair({}, { comment: '# b24-rules: allow-conflict rule-a' })).toEqual([]);
    expect(await pair({}, { comment: '# b24-rules: allow-conflict another-rule' })).toHaveLength(1);
  });

  it('compares only the same trigger and the same record', async () => {
    const pair = (a: Parameters<typeof rule>[1], b: Parameters<typeof rule>[1]) => conflictsOf(`${rule('rule-a', a)}---\n${rule('rule-b', { user: 15, ...b })}`);
    expect(await pair({}, { trigger: '{ event: ONCRMLEADUPDATE }' })).toEqual([]);
    // changed: narrows the event, it is still the same trigger.
    expect(await pair({ trigger: '{ event: ONCRMLEADUPDATE }' }, { trigger: '{ event: ONCRMLEADUPDATE, changed: { STATUS_ID: {} } }' })).toHaveLength(1);
    expect(await pair({}, { id: '{{ event.id }}' })).toHaveLength(1);
    expect(await pair({ id: '7' }, { id: '7' })).toHaveLength(1);
    expect(await pair({ id: '7' }, { id: '8' })).toEqual([]);
    // A record named through something else than the event's record is not compared.
    expect(await pair({ id: '{{ lead.CONTACT_ID }}' }, {})).toEqual([]);
  });

  it('sees changed: targets that exclude each other, and schedules with the same cron', async () => {
    const changed = (id: string, to: string, user: number) =>
      `id: ${id}\ntrigger: { event: ONCRMDEALUPDATE, changed: { STAGE_ID: { to: ${to} } } }\nactions:\n  - update: { entity: deal, id: "{{ deal.ID }}", fields: { ASSIGNED_BY_ID: ${user} } }\n`;
    expect(await conflictsOf(`${changed('won', 'WON', 1)}---\n${changed('lost', 'LOSE', 2)}`)).toEqual([]);
    expect(await conflictsOf(`${changed('won', 'WON', 1)}---\n${changed('won-too', '[WON, LOSE]', 2)}`)).toHaveLength(1);
    const sched = (id: string, cron: string, stage: string) =>
      `id: ${id}\ntrigger: { schedule: { cron: "${cron}" } }\nforeach: { entity: deal, filter: { STAGE_ID: ${stage} } }\ndedupe: "${id}:{{ deal.ID }}"\nactions:\n  - update: { entity: deal, id: "{{ deal.ID }}", fields: { UF_CRM_FLAG: "{{ deal.STAGE_ID }}" } }\n`;
    expect(await conflictsOf(`${sched('s1', '0 9 * * *', 'NEW')}---\n${sched('s2', '0  9 * * *', 'PREPARATION')}`)).toEqual([]);
    expect(await conflictsOf(`${sched('s1', '0 9 * * *', 'NEW')}---\n${sched('s2', '0 9 * * *', 'NEW')}`)).toHaveLength(1);
    expect(await conflictsOf(`${sched('s1', '0 9 * * *', 'NEW')}---\n${sched('s2', '0 10 * * *', 'NEW')}`)).toEqual([]);
  });
});
