import { describe, expect, it } from 'vitest';
import { checkLoadErrors, checkPlan, triggerDidNotHold } from '../../engine/testing/check.js';
import type { Diagnostic } from '../../engine/rules/types.js';
import { samplePlan } from '../plan/sample-plan.js';

describe('expectation checks', () => {
  it('conditions: value and a reason substring', () => {
    const plan = samplePlan();
    expect(checkPlan({ conditions: { 'route-leads-inbound': { value: false, reason: 'OPPORTUNITY' }, 'route-leads-key-accounts': true } }, plan)).toBeNull();
    expect(checkPlan({ conditions: { 'route-leads-inbound': { value: false, reason: 'SOURCE_ID' } } }, plan)).toMatch(/condition of route-leads-inbound: expected false with a reason containing "SOURCE_ID"; got false \(lead\.OPPORTUNITY/);
    expect(checkPlan({ conditions: { 'no-such-rule': true } }, plan)).toMatch(/no-such-rule: expected true, but the rule did not run/);
  });

  it('not_triggered: a run skipped because changed: did not hold counts as not triggered', () => {
    const plan = samplePlan();
    expect(checkPlan({ not_triggered: ['route-leads-inbound'] }, plan)).toMatch(/expected route-leads-inbound not to run, but it ran \(condition false\)/);
    plan.firings[0]!.condition = null;
    plan.firings[0]!.skipped = 'changed: STAGE_ID did not change';
    plan.firings[0]!.trigger_held = false;
    expect(triggerDidNotHold(plan.firings[0]!)).toBe(true);
    expect(checkPlan({ not_triggered: ['route-leads-inbound', 'other-rule'] }, plan)).toBeNull();
  });

  it('a planning error fails a case unless it is the expected error', () => {
    const plan = samplePlan();
    plan.firings[0]!.error = { code: 'LOAD_FAILED', message: 'crm.lead.get: not found' };
    expect(checkPlan({ no_calls: true }, plan)).toMatch(/^planning failed: route-leads-inbound: LOAD_FAILED/);
    expect(checkPlan({ error: { code: 'LOAD_FAILED', message: 'not found' }, calls: [{ method: 'crm.lead.update' }, { method: 'im.notify.system.add' }] }, plan)).toBeNull();
  });

  it('validation errors match by code, message and line', () => {
    const d: Diagnostic[] = [{ severity: 'error', code: 'SCHEMA', message: 'unknown key "trigers"', file: 'x.yaml', line: 3, col: 1 }];
    const fmt = (x: Diagnostic[]) => x.map((y) => `${y.file}:${y.line}: ${y.code}`).join('\n');
    expect(checkLoadErrors({ error: { code: 'SCHEMA', message: 'trigers', line: 3 } }, d, fmt)).toBeNull();
    expect(checkLoadErrors({ error: { code: 'SCHEMA', line: 4 } }, d, fmt)).toMatch(/expected a validation error with code SCHEMA, line 4; got:\nx\.yaml:3: SCHEMA/);
    expect(checkLoadErrors({ no_calls: true }, d, fmt)).toMatch(/^the rules did not load:/);
  });
});
