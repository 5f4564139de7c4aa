import { describe, expect, it } from 'vitest';
import { entityOfEvent, eventRecordId } from '../../engine/facts/entities.js';
import { matchRules, triggerFacts } from '../../engine/pipeline/index.js';
import { rules } from '../e2e-engine/harness.js';
import type { InboxItemInput } from '../../engine/store/types.js';

const RULES = rules(`
id: on-deal
trigger: { event: ONCRMDEALUPDATE }
actions: [ { notify: { user: 1, message: x } } ]
---
id: off
enabled: false
trigger: { event: ONCRMDEALUPDATE }
actions: [ { notify: { user: 1, message: x } } ]
---
id: daily
trigger: { schedule: { cron: "0 9 * * *" } }
dedupe: "daily:{{ schedule.at }}"
actions: [ { notify: { user: 1, message: x } } ]
`);

const item = (p: Partial<InboxItemInput>): InboxItemInput => ({ source: 'outgoing', key: 'k', event: null, ruleId: null, payload: {}, receivedAt: 0, ...p });

describe('matching', () => {
  it('event items match enabled event rules case-insensitively; rule items match their rule', () => {
    expect(matchRules(item({ event: 'onCrmDealUpdate' }), RULES).map((r) => r.id)).toEqual(['on-deal']);
    expect(matchRules(item({ source: 'schedule', ruleId: 'daily' }), RULES).map((r) => r.id)).toEqual(['daily']);
    expect(matchRules(item({ event: 'ONCRMLEADADD' }), RULES)).toEqual([]);
  });

  it('event facts: name, record id and entity, data, ts; schedule facts: at', () => {
    const f = triggerFacts(item({ event: 'ONCRMDEALUPDATE', payload: { event: 'ONCRMDEALUPDATE', data: { FIELDS: { ID: '7' } }, ts: '1' } }), RULES[0]!);
    expect(f).toEqual({ event: { name: 'ONCRMDEALUPDATE', id: '7', entity: 'deal', data: { FIELDS: { ID: '7' } }, ts: '1' } });
    expect(triggerFacts(item({ source: 'schedule', key: 'daily@2026-01-01T09:00:00.000Z', ruleId: 'daily', payload: { schedule: { at: '2026-01-01T09:00:00.000Z' } } }), RULES[2]!)).toEqual({
      schedule: { at: '2026-01-01T09:00:00.000Z' },
    });
  });

  it('entities and record ids of event payloads (API-FACTS §5.3)', () => {
    expect(['ONCRMLEADADD', 'ONCRMDEALMOVETOCATEGORY', 'ONTASKUPDATE', 'ONCRMDYNAMICITEMUPDATE_147', 'ONAPPINSTALL'].map(entityOfEvent)).toEqual(['lead', 'deal', 'task', 'item', undefined]);
    expect(eventRecordId({ data: { FIELDS_AFTER: { ID: 123 } } })).toBe('123');
    expect(eventRecordId({ data: { ID: 999 } })).toBe('999');
    expect(eventRecordId({ data: {} })).toBeUndefined();
  });
});
