import { describe, expect, it } from 'vitest';
import { escapeData, escapeProperty, renderGithub } from '../../engine/plan/render-github.js';
import { renderPlan } from '../../engine/plan/render.js';
import { PLAN_FORMAT_VERSION } from '../../engine/plan/types.js';
import { samplePlan } from './sample-plan.js';

describe('plan rendering', () => {
  it('text shows trigger, record, condition reason, calls with before/after, batches and the estimate', () => {
    const text = renderPlan(samplePlan(), 'text');
    expect(text).toContain('rule route-leads-key-accounts  (rules/03-route-leads.yaml:31)');
    expect(text).toContain('trigger    event ONCRMLEADADD (dry-run:event:1)');
    expect(text).toContain('record     lead 101 "Order, 50% off"');
    expect(text).toContain("[1] route-leads-inbound on lead 101 \"Order, 50% off\" (event ONCRMLEADADD (dry-run:event:1)): condition false: lead.OPPORTUNITY < 1000000 was false: 1500000");
    expect(text).toContain('1. crm.lead.update {"fields":{"ASSIGNED_BY_ID":12},"id":"101"}');
    expect(text).toContain('ASSIGNED_BY_ID: "1" → 12');
    expect(text).toContain('batch 1: 2 commands (crm.lead.update ×1, im.notify.system.add ×1)');
    expect(text.trimEnd().split('\n').pop()).toBe(
      'Plan: 2 writes from 1 of 2 rule runs, in 1 batch, ~3 HTTP requests (2 read, 1 write), ~0 s at the standard limit (burst 50, 2/s).',
    );
  });

  it('text says "No changes" when nothing writes', () => {
    const plan = samplePlan();
    plan.firings = [plan.firings[0]!];
    plan.batches = [];
    plan.summary = { ...plan.summary, acting: 0, calls: 0, writes: 0, by_method: {}, firings: 1 };
    expect(renderPlan(plan, 'text')).toContain('No changes. 1 rule run considered, none would write.');
  });

  it('json carries format_version and sorted keys, and is stable', () => {
    const a = renderPlan(samplePlan(), 'json');
    const parsed = JSON.parse(a) as { format_version: number; firings: unknown[] };
    expect(parsed.format_version).toBe(PLAN_FORMAT_VERSION);
    expect(parsed.firings).toHaveLength(2);
    expect(a.indexOf('"batches"')).toBeLessThan(a.indexOf('"estimate"'));
    expect(renderPlan(samplePlan(), 'json')).toBe(a);
  });

  it('github writes one notice per writing run, escaped, on the rule file and line', () => {
    const out = renderGithub(samplePlan());
    const notices = out.split('\n').filter((l) => l.startsWith('::'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^::notice file=rules\/03-route-leads\.yaml,line=31,title=route-leads-key-accounts would write 2 calls::/);
    // The newline inside the notify message and the line breaks between calls are escaped.
    expect(notices[0]).toContain('%0A');
    expect(notices[0]).not.toContain('\n');
  });

  it('github warns about a run whose planning failed', () => {
    const plan = samplePlan();
    plan.firings[0]!.error = { code: 'LOAD_FAILED', message: 'crm.lead.get: ACCESS_DENIED' };
    const out = renderGithub(plan);
    expect(out).toMatch(/^::warning file=rules\/03-route-leads\.yaml,line=120,title=route-leads-inbound%3A planning failed::/m);
  });

  it('github caps annotations at what GitHub shows and says how many more', () => {
    const plan = samplePlan();
    const writer = plan.firings[1]!;
    plan.firings = Array.from({ length: 25 }, (_, i) => ({ ...writer, record: { entity: 'lead', id: String(i + 1) } }));
    const notices = renderGithub(plan).split('\n').filter((l) => l.startsWith('::notice'));
    expect(notices).toHaveLength(10);
    expect(notices[9]).toBe('::notice title=16 more rule runs::16 more rule runs would write: see the job summary or the plan below.');
  });

  it('escapes workflow-command data and properties', () => {
    expect(escapeData('50% a\r\nb')).toBe('50%25 a%0D%0Ab');
    expect(escapeProperty('a:b,c')).toBe('a%3Ab%2Cc');
  });

  it('markdown has a table row per run and escapes pipes', () => {
    const plan = samplePlan();
    plan.firings[1]!.record!.title = 'A | B';
    const md = renderPlan(plan, 'markdown');
    expect(md).toContain('| # | rule | trigger | record | condition | writes |');
    expect(md).toContain('| 2 | `route-leads-key-accounts` | event ONCRMLEADADD (dry-run:event:1) | lead 101 "A \\| B" | true | 2 |');
    expect(md).toContain('<details><summary>Calls</summary>');
  });
});
