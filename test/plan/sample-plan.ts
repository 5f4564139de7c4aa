/** A hand-made plan document for renderer tests (two firings: one writes, one with a false condition). */
import { estimate } from '../../engine/plan/estimate.js';
import { PLAN_FORMAT_VERSION, type PlanDocument } from '../../engine/plan/types.js';

export function samplePlan(): PlanDocument {
  return {
    format_version: PLAN_FORMAT_VERSION,
    at: '2026-11-24T06:00:00.000Z',
    source: { mode: 'fixtures', fixtures: 'rules/fixtures/03-route-leads.fixtures.yaml' },
    rules: { count: 2, files: ['rules/03-route-leads.yaml'], ids: ['route-leads-inbound', 'route-leads-key-accounts'] },
    inputs: { events: 1, schedule_ticks: [] },
    summary: { firings: 2, acting: 1, calls: 2, writes: 2, errors: 0, by_method: { 'crm.lead.update': 1, 'im.notify.system.add': 1 } },
    firings: [
      {
        rule: 'route-leads-inbound',
        file: 'rules/03-route-leads.yaml',
        line: 120,
        trigger: { kind: 'event', event: 'ONCRMLEADADD', key: 'dry-run:event:1' },
        record: { entity: 'lead', id: '101', title: 'Order, 50% off' },
        condition: { value: false, reason: 'lead.OPPORTUNITY < 1000000 was false: 1500000' },
        calls: [],
      },
      {
        rule: 'route-leads-key-accounts',
        file: 'rules/03-route-leads.yaml',
        line: 31,
        trigger: { kind: 'event', event: 'ONCRMLEADADD', key: 'dry-run:event:1' },
        record: { entity: 'lead', id: '101', title: 'Order, 50% off' },
        condition: { value: true },
        calls: [
          { method: 'crm.lead.update', kind: 'write', params: { id: '101', fields: { ASSIGNED_BY_ID: 12 } }, changes: [{ field: 'ASSIGNED_BY_ID', before: '1', after: 12 }] },
          { method: 'im.notify.system.add', kind: 'write', params: { USER_ID: 12, MESSAGE: 'New key-account lead\nis yours' } },
        ],
      },
    ],
    batches: [{ index: 1, calls: [[1, 0], [1, 1]] }],
    estimate: estimate(2, 1, 'standard'),
    reads: [{ entity: 'lead', id: '101', date_modify: '2026-11-20T10:00:00+03:00', hash: 'sha256:00', fields: ['ID'] }],
  };
}
