/**
 * `rollout:` (issue 16): the sticky share of records (a hash of the rule id and
 * the record, so raising the percent keeps those already in), and the rule
 * checks: a rollout on a rule whose runs are about no record is
 * ROLLOUT_NO_RECORD at its file:line:col, a percent out of 0-100 a SCHEMA error.
 */
import { describe, expect, it } from 'vitest';
import { inShare, rolloutBucket } from '../../engine/pipeline/rollout.js';
import { loadRuleSource } from '../../engine/rules/index.js';

const keys = Array.from({ length: 10_000 }, (_, i) => `lead:${i + 1}`);
const inside = (rule: string, percent: number) => new Set(keys.filter((k) => inShare(rule, k, percent)));

describe('the share of records', () => {
  it('is sticky, about the percent asked, and grows without losing a record', () => {
    const ten = inside('canary', 10);
    expect(inside('canary', 10)).toEqual(ten);
    expect(Math.abs(ten.size - 1000)).toBeLessThan(100);
    const twenty = inside('canary', 20);
    expect(Math.abs(twenty.size - 2000)).toBeLessThan(150);
    for (const k of ten) expect(twenty.has(k)).toBe(true);
    expect(inside('canary', 0).size).toBe(0);
    expect(inside('canary', 100).size).toBe(keys.length);
    expect(inShare('canary', 'lead:1', 0.01)).toBe(rolloutBucket('canary', 'lead:1') === 0);
  });

  it('depends on the rule id: another rule picks other records', () => {
    const a = inside('canary', 10);
    const b = inside('canary-2', 10);
    const both = [...a].filter((k) => b.has(k)).length;
    // Independent shares of 10 % overlap in about 1 % of the records.
    expect(both).toBeLessThan(200);
  });
});

describe('rule checks', () => {
  const load = (yaml: string) => loadRuleSource(yaml, 'r.yaml');

  it('ROLLOUT_NO_RECORD for a schedule without foreach, a webhook or an event that names no record, at rollout:', () => {
    const res = load(`id: daily
rollout: { percent: 10 }
trigger: { schedule: { cron: "0 9 * * *" } }
dedupe: "daily:{{ schedule.at }}"
actions:
  - notify: { user: 1, message: hi }
---
id: hook
trigger: { webhook: { path: /hooks/x } }
rollout:
  percent: 5
actions:
  - notify: { user: 1, message: hi }
---
id: install
trigger: { event: ONAPPINSTALL }
rollout: { where: { "==": [1, 1] } }
actions:
  - notify: { user: 1, message: hi }
`);
    const d = res.diagnostics.filter((x) => x.code === 'ROLLOUT_NO_RECORD');
    expect(d.map((x) => [x.ruleId, x.line, x.col, x.severity])).toEqual([
      ['daily', 2, 1, 'error'],
      ['hook', 10, 1, 'error'],
      ['install', 17, 1, 'error'],
    ]);
    expect(d[0]!.message).toContain('a schedule without foreach');
    expect(d[0]!.hint).toContain('foreach');
    expect(res.rules).toEqual([]);
  });

  it('takes a rollout on an event with a record and on foreach; where reads the rule’s names, checked like the condition', () => {
    const res = load(`id: canary
mode: shadow
rollout: { percent: 12.5, where: { "==": [{ var: deal.CATEGORY_ID }, "2"] } }
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: hi }
---
id: sweep
rollout: { percent: 50 }
trigger: { schedule: { cron: "0 9 * * *" } }
foreach: { entity: deal, filter: { STAGE_SEMANTIC_ID: P } }
dedupe: "sweep:{{ deal.ID }}"
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: hi }
---
id: typo
rollout: { where: { "==": [{ var: dael.CATEGORY_ID }, "2"] } }
trigger: { event: ONCRMDEALUPDATE }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: hi }
`);
    expect(res.rules.map((r) => [r.id, r.mode, r.rollout?.percent, r.rollout?.where ? 'where' : '-'])).toEqual([
      ['canary', 'shadow', 12.5, 'where'],
      ['sweep', undefined, 50, '-'],
    ]);
    expect(res.diagnostics.filter((x) => x.severity === 'error').map((x) => [x.code, x.ruleId, x.path])).toEqual([['LOGIC_UNKNOWN_NAME', 'typo', '/rollout/where/==/0/var']]);
  });

  it('a percent out of 0-100, an empty rollout, an unknown key or mode are schema errors', () => {
    const res = load(`id: a
rollout: { percent: 150 }
trigger: { event: ONCRMDEALUPDATE }
actions: [{ notify: { user: 1, message: hi } }]
---
id: b
rollout: {}
trigger: { event: ONCRMDEALUPDATE }
actions: [{ notify: { user: 1, message: hi } }]
---
id: c
rollout: { share: 10 }
mode: dark
trigger: { event: ONCRMDEALUPDATE }
actions: [{ notify: { user: 1, message: hi } }]
`);
    const byRule = (id: string) => res.diagnostics.filter((x) => x.ruleId === id && x.code === 'SCHEMA').length;
    expect(byRule('a')).toBeGreaterThan(0);
    expect(byRule('b')).toBeGreaterThan(0);
    expect(byRule('c')).toBeGreaterThan(0);
    expect(res.rules).toEqual([]);
  });
});
