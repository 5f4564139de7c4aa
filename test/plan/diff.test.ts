/** The comparison of two plans (`rules diff`): runs, calls and rules matched by identity, with totals. */
import { describe, expect, it } from 'vitest';
import { diffCalls, diffPlans, hasDifferences, type DiffRuleInfo, type PlanCall, type PlanDocument, type PlanFiring } from '../../engine/plan/index.js';
import { samplePlan } from './sample-plan.js';

const RULES: DiffRuleInfo[] = [
  { id: 'route-leads-inbound', hash: 'h1', file: 'rules/03-route-leads.yaml', line: 120 },
  { id: 'route-leads-key-accounts', hash: 'h2', file: 'rules/03-route-leads.yaml', line: 31 },
];

function diff(base: PlanDocument, head: PlanDocument, rules: { base?: DiffRuleInfo[]; head?: DiffRuleInfo[] } = {}) {
  return diffPlans({ base: { label: 'origin/main', rules: rules.base ?? RULES }, head: { label: 'working tree', rules: rules.head ?? RULES }, inputs: [{ label: 'rules/fixtures/03-route-leads.fixtures.yaml', base, head }] });
}

const firing = (plan: PlanDocument, rule: string): PlanFiring => plan.firings.find((f) => f.rule === rule) as PlanFiring;

const call = (method: string, params: Record<string, unknown>, key: string, kind = 'notify'): PlanCall => ({ method, kind: 'write', params, key, action: { kind, index: Number(key.split(':').pop()?.split('.')[0]) } });

describe('diffPlans', () => {
  it('finds nothing between equal plans; a rule whose text changed without effect on the inputs is listed apart', () => {
    const d = diff(samplePlan(), samplePlan(), { head: [RULES[0] as DiffRuleInfo, { ...(RULES[1] as DiffRuleInfo), hash: 'h2-new', changedLine: 40 }] });
    expect(d.rules).toEqual([]);
    expect(hasDifferences(d)).toBe(false);
    expect(d.no_effect).toEqual([{ rule: 'route-leads-key-accounts', file: 'rules/03-route-leads.yaml', line: 31, changed_line: 40 }]);
    expect(d.totals).toEqual({ rules_added: 0, rules_removed: 0, rules_changed: 0, runs_added: 0, runs_removed: 0, runs_changed: 0, calls_added: 0, calls_removed: 0, calls_changed: 0 });
  });

  it('shows a changed field as one changed call, with the param and the field the record is left with, before and after', () => {
    const head = samplePlan();
    const update = firing(head, 'route-leads-key-accounts').calls[0] as PlanCall;
    update.params = { id: '101', fields: { ASSIGNED_BY_ID: 13 } };
    update.changes = [{ field: 'ASSIGNED_BY_ID', before: '1', after: 13 }];
    const d = diff(samplePlan(), head);
    expect(hasDifferences(d)).toBe(true);
    expect(d.rules).toHaveLength(1);
    const rule = d.rules[0];
    expect(rule).toMatchObject({ rule: 'route-leads-key-accounts', change: 'changed', file: 'rules/03-route-leads.yaml', line: 31 });
    expect(rule?.runs).toHaveLength(1);
    const run = rule?.runs[0];
    expect(run).toMatchObject({ change: 'changed', record: { entity: 'lead', id: '101' }, trigger: { key: 'dry-run:event:1' } });
    expect(run?.calls).toEqual([{ change: 'changed', method: 'crm.lead.update', kind: 'write', params: { id: '101', fields: { ASSIGNED_BY_ID: 13 } }, params_changed: [{ path: 'fields.ASSIGNED_BY_ID', base: 12, head: 13 }] }]);
    expect(run?.fields).toEqual([{ target: 'lead 101', field: 'ASSIGNED_BY_ID', base: 12, head: 13 }]);
    expect(d.totals).toMatchObject({ rules_changed: 1, runs_changed: 1, calls_changed: 1, calls_added: 0, calls_removed: 0 });
  });

  it('an update only one side makes leaves the record as it was on the other', () => {
    const head = samplePlan();
    firing(head, 'route-leads-key-accounts').calls.splice(0, 1);
    const d = diff(samplePlan(), head);
    const run = d.rules[0]?.runs[0];
    expect(run?.calls).toEqual([{ change: 'removed', method: 'crm.lead.update', kind: 'write', params: { id: '101', fields: { ASSIGNED_BY_ID: 12 } }, changes: [{ field: 'ASSIGNED_BY_ID', before: '1', after: 12 }] }]);
    expect(run?.fields).toEqual([{ target: 'lead 101', field: 'ASSIGNED_BY_ID', base: 12, head: '1' }]);
  });

  it('a run that appears, one that disappears, and a condition that now holds', () => {
    const head = samplePlan();
    const inbound = firing(head, 'route-leads-inbound');
    inbound.condition = { value: true };
    inbound.calls = [call('im.notify.system.add', { USER_ID: 3, MESSAGE: 'yours' }, 'route-leads-inbound:aa:0.0')];
    head.firings.push({ ...inbound, trigger: { kind: 'event', event: 'ONCRMLEADADD', key: 'dry-run:event:2' }, record: { entity: 'lead', id: '102' } });
    const base = samplePlan();
    base.firings.push({ ...firing(base, 'route-leads-key-accounts'), trigger: { kind: 'event', event: 'ONCRMLEADADD', key: 'dry-run:event:3' }, record: { entity: 'lead', id: '103' } });
    const d = diff(base, head);
    const inboundDiff = d.rules.find((r) => r.rule === 'route-leads-inbound');
    expect(inboundDiff?.runs.map((r) => [r.change, r.record?.id, r.condition, r.calls.map((c) => c.change)])).toEqual([
      ['changed', '101', { base: false, head: true }, ['added']],
      ['added', '102', { base: undefined, head: true }, ['added']],
    ]);
    const key = d.rules.find((r) => r.rule === 'route-leads-key-accounts');
    expect(key?.runs.map((r) => [r.change, r.record?.id, r.calls.map((c) => c.change)])).toEqual([['removed', '103', ['removed', 'removed']]]);
    expect(d.totals).toMatchObject({ rules_changed: 2, runs_added: 1, runs_removed: 1, runs_changed: 1, calls_added: 2, calls_removed: 2, calls_changed: 0 });
  });

  it('rules the change adds or removes show as such, with their runs', () => {
    const head = samplePlan();
    head.firings = head.firings.filter((f) => f.rule !== 'route-leads-inbound');
    head.firings.push({ rule: 'route-leads-vip', file: 'rules/03-route-leads.yaml', line: 200, trigger: { kind: 'event', event: 'ONCRMLEADADD', key: 'dry-run:event:1' }, record: { entity: 'lead', id: '101' }, condition: null, calls: [call('im.notify.system.add', { USER_ID: 1, MESSAGE: 'VIP' }, 'route-leads-vip:bb:0.0')] });
    const d = diff(samplePlan(), head, { head: [RULES[1] as DiffRuleInfo, { id: 'route-leads-vip', hash: 'h3', file: 'rules/03-route-leads.yaml', line: 200 }, { id: 'quiet-new', hash: 'h4', file: 'rules/99.yaml', line: 3 }] });
    expect(d.rules.map((r) => [r.rule, r.change, r.runs.map((x) => x.change)])).toEqual([
      ['quiet-new', 'added', []],
      ['route-leads-inbound', 'removed', ['removed']],
      ['route-leads-vip', 'added', ['added']],
    ]);
    expect(d.rules.find((r) => r.rule === 'route-leads-inbound')).toMatchObject({ file: 'rules/03-route-leads.yaml', line: 120 });
    expect(d.totals).toMatchObject({ rules_added: 2, rules_removed: 1, rules_changed: 0 });
  });

  it('marks and errors of a run that differ are attributes (a shadow mark, a run that now fails to plan)', () => {
    const head = samplePlan();
    Object.assign(firing(head, 'route-leads-key-accounts'), { mode: 'shadow' });
    firing(head, 'route-leads-inbound').error = { code: 'CONFIG_INVALID', message: 'env.X is not set' };
    const d = diff(samplePlan(), head);
    expect(d.rules.map((r) => [r.rule, r.runs[0]?.attributes, r.runs[0]?.calls])).toEqual([
      ['route-leads-inbound', [{ name: 'error', base: undefined, head: { code: 'CONFIG_INVALID', message: 'env.X is not set' } }], []],
      ['route-leads-key-accounts', [{ name: 'mode', base: undefined, head: 'shadow' }], []],
    ]);
  });

  it('runs of several inputs are told apart by their input', () => {
    const d = diffPlans({
      base: { label: 'b', rules: RULES },
      head: { label: 'h', rules: RULES },
      inputs: [
        { label: 'a.fixtures.yaml', base: samplePlan(), head: samplePlan() },
        { label: 'b.fixtures.yaml', base: samplePlan(), head: { ...samplePlan(), firings: samplePlan().firings.filter((f) => f.rule !== 'route-leads-key-accounts') } },
      ],
    });
    expect(d.rules.flatMap((r) => r.runs.map((x) => [r.rule, x.input, x.change]))).toEqual([['route-leads-key-accounts', 'b.fixtures.yaml', 'removed']]);
    expect(d.inputs.map((i) => i.label)).toEqual(['a.fixtures.yaml', 'b.fixtures.yaml']);
  });
});

describe('diffCalls', () => {
  const update = call('crm.lead.update', { id: '7', fields: { X: 1 } }, 'r:aa:0.0', 'update');
  const notify = call('im.notify.system.add', { USER_ID: 1, MESSAGE: 'hi' }, 'r:aa:1.0');

  it('an action inserted before others: only the new call is added, the moved ones are not changed', () => {
    const comment = call('crm.timeline.comment.add', { fields: { COMMENT: 'new' } }, 'r:aa:0.0', 'comment');
    const out = diffCalls([update, notify], [comment, { ...update, key: 'r:aa:1.0' }, { ...notify, key: 'r:aa:2.0' }]);
    expect(out.map((c) => [c.change, c.method])).toEqual([['added', 'crm.timeline.comment.add']]);
  });

  it('a moved action whose params changed is one changed call (same method and action kind), not a removal and an addition', () => {
    const comment = call('crm.timeline.comment.add', { fields: { COMMENT: 'new' } }, 'r:aa:0.0', 'comment');
    const out = diffCalls([update, notify], [comment, { ...update, key: 'r:aa:1.0' }, { ...notify, key: 'r:aa:2.0', params: { USER_ID: 1, MESSAGE: 'hello' } }]);
    expect(out.map((c) => [c.change, c.method, c.params_changed])).toEqual([
      ['added', 'crm.timeline.comment.add', undefined],
      ['changed', 'im.notify.system.add', [{ path: 'MESSAGE', base: 'hi', head: 'hello' }]],
    ]);
  });

  it('calls of the same action address pair up even when their method is the same as another call', () => {
    const a = call('im.notify.system.add', { USER_ID: 1, MESSAGE: 'first' }, 'r:aa:0.0');
    const b = call('im.notify.system.add', { USER_ID: 2, MESSAGE: 'second' }, 'r:aa:1.0');
    const out = diffCalls([a, b], [a, { ...b, params: { USER_ID: 2, MESSAGE: 'second, changed' } }]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ change: 'changed', params_changed: [{ path: 'MESSAGE', base: 'second', head: 'second, changed' }] });
  });

  it('a param added or dropped is a changed path with the absent side undefined', () => {
    const out = diffCalls([update], [{ ...update, params: { id: '7', fields: { X: 1, Y: 2 } } }]);
    expect(out[0]?.params_changed).toEqual([{ path: 'fields.Y', base: undefined, head: 2 }]);
  });
});
