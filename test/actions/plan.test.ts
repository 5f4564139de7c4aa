import { describe, expect, it } from 'vitest';
import { ActionConfigError, actionKind, type PlanContext } from '../../engine/actions/index.js';

function ctx(records: Record<string, Record<string, unknown>> = {}): PlanContext {
  return { ruleId: 'r', effectKey: 'r:abc:0.0', record: (entity, id) => records[`${entity}:${id}`] };
}
const plan = (kind: string, cfg: Record<string, unknown>, c = ctx()) => actionKind(kind).plan(cfg, c);

describe('update', () => {
  it('sends only fields that differ from the loaded record, comparing loosely', () => {
    const out = plan('update', { entity: 'deal', id: 12, fields: { STAGE_ID: 'WON', OPPORTUNITY: 500, OPENED: true, COMMENTS: null } }, ctx({ 'deal:12': { STAGE_ID: 'NEW', OPPORTUNITY: '500.00', OPENED: 'Y', COMMENTS: '' } }));
    expect(out).toMatchObject({ kind: 'calls', calls: [{ method: 'crm.deal.update', params: { id: '12', fields: { STAGE_ID: 'WON' } }, before: { STAGE_ID: 'NEW' }, recovery: 'resend' }] });
  });

  it('plans nothing when no field differs', () => {
    expect(plan('update', { entity: 'lead', id: '3', fields: { STATUS_ID: 'NEW' } }, ctx({ 'lead:3': { STATUS_ID: 'NEW' } }))).toMatchObject({ kind: 'calls', calls: [] });
  });

  it('sends every field when the record was not loaded, and says so', () => {
    expect(plan('update', { entity: 'lead', id: '3', fields: { STATUS_ID: 'NEW' } })).toMatchObject({ calls: [{ params: { fields: { STATUS_ID: 'NEW' } } }], note: expect.stringMatching(/not loaded/) });
  });

  it('tasks: compares UPPER_CASE fields with the camelCase record and updates with taskId', () => {
    const out = plan('update', { entity: 'task', id: 7, fields: { RESPONSIBLE_ID: 5, TITLE: 'Same' } }, ctx({ 'task:7': { responsibleId: '4', title: 'Same' } }));
    expect(out).toMatchObject({ calls: [{ method: 'tasks.task.update', params: { taskId: '7', fields: { RESPONSIBLE_ID: 5 } } }] });
  });

  it('an empty id is a rule problem naming the field', () => {
    expect(() => plan('update', { entity: 'deal', id: '', fields: { A: 1 } })).toThrow(ActionConfigError);
    expect(() => plan('update', { entity: 'deal', id: '', fields: { A: 1 } })).toThrow(/id is empty/);
  });
});

describe('create', () => {
  it('marks CRM records with ORIGINATOR_ID and ORIGIN_ID from the effect key, with a lookup for recovery', () => {
    const out = plan('create', { entity: 'lead', fields: { TITLE: 'x' } });
    expect(out).toMatchObject({
      calls: [
        {
          method: 'crm.lead.add',
          params: { fields: { TITLE: 'x', ORIGINATOR_ID: 'b24-rules', ORIGIN_ID: 'b24rules:r:abc:0.0' } },
          recovery: 'lookup',
          lookup: { method: 'crm.lead.list', params: { filter: { ORIGINATOR_ID: 'b24-rules', ORIGIN_ID: 'b24rules:r:abc:0.0' } }, result: 'id-number' },
        },
      ],
    });
  });

  it('a task needs a title and a responsible', () => {
    expect(() => plan('create', { entity: 'task', fields: { TITLE: 'x' } })).toThrow(/RESPONSIBLE_ID/);
  });
});

describe('comment, task, todo, notify, workflow', () => {
  it('comment → crm.timeline.comment.add with lowercase fields and ENTITY_TYPE', () => {
    expect(plan('comment', { entity: 'item', entityTypeId: 1032, id: '4', text: 'hi' })).toMatchObject({
      calls: [{ method: 'crm.timeline.comment.add', params: { fields: { ENTITY_ID: 4, ENTITY_TYPE: 'dynamic_1032', COMMENT: 'hi' } }, recovery: 'lookup' }],
    });
    expect(() => plan('comment', { entity: 'deal', id: 1, text: '  ' })).toThrow(/text is empty/);
  });

  it('task → tasks.task.add with a UF_CRM_TASK binding', () => {
    expect(plan('task', { title: 'Call', responsible: 'user_5', deadline: '2026-01-01T10:00:00', bind: { entity: 'company', id: 9 } })).toMatchObject({
      calls: [{ method: 'tasks.task.add', params: { fields: { TITLE: 'Call', RESPONSIBLE_ID: 5, DEADLINE: '2026-01-01T10:00:00', UF_CRM_TASK: ['CO_9'] } }, resultPath: ['task'] }],
    });
    expect(() => plan('task', { title: 'x', responsible: 'nobody' })).toThrow(/responsible must be a user ID/);
  });

  it('todo → crm.activity.todo.add with top-level params', () => {
    expect(plan('todo', { entity: 'deal', id: 3, title: 'T', deadline: '2026-01-01T10:00:00', responsible: 2 })).toMatchObject({
      calls: [{ method: 'crm.activity.todo.add', params: { ownerTypeId: 2, ownerId: 3, deadline: '2026-01-01T10:00:00', title: 'T', responsibleId: 2 } }],
    });
  });

  it('notify → one im.notify.system.add per user, at most once', () => {
    const out = plan('notify', { user: [1, '2'], message: 'm' });
    expect(out).toMatchObject({ calls: [{ params: { USER_ID: 1, MESSAGE: 'm' }, recovery: 'at-most-once' }, { params: { USER_ID: 2 } }] });
  });

  it('workflow → bizproc.workflow.start with the document triple', () => {
    expect(plan('workflow', { template_id: '12', entity: 'deal', id: 12, parameters: { A: 1 } })).toMatchObject({
      calls: [{ method: 'bizproc.workflow.start', params: { TEMPLATE_ID: 12, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_12'], PARAMETERS: { A: 1 } } }],
    });
    expect(() => plan('workflow', { template_id: 'x', entity: 'deal', id: 1 })).toThrow(/template_id/);
  });
});

describe('call, http, round_robin, stop', () => {
  it('call: reads and fixed-value writes are re-sent when in doubt, other writes are not', () => {
    expect(plan('call', { method: 'crm.deal.list', params: {} })).toMatchObject({ calls: [{ recovery: 'resend' }] });
    expect(plan('call', { method: 'crm.deal.update', params: { id: 1 } })).toMatchObject({ calls: [{ recovery: 'resend' }] });
    expect(plan('call', { method: 'im.message.add', params: {} })).toMatchObject({ calls: [{ recovery: 'none' }] });
    expect(() => plan('call', { method: 'batch' })).toThrow(/batches calls itself/);
    expect(() => plan('call', { method: 'not a method' })).toThrow(/method must be/);
  });

  it('http: an Idempotency-Key header, POST when there is a body, a default timeout', () => {
    expect(plan('http', { url: 'https://erp.example/x', body: { a: 1 }, headers: { Authorization: 'Bearer t' } })).toEqual({
      kind: 'http',
      request: { url: 'https://erp.example/x', method: 'POST', headers: { 'idempotency-key': 'r:abc:0.0', authorization: 'Bearer t' }, body: { a: 1 }, timeoutMs: 10000 },
    });
    expect(() => plan('http', { url: 'ftp://x' })).toThrow(/http\(s\)/);
    expect(() => plan('http', { url: 'nope' })).toThrow(/absolute URL/);
  });

  it('round_robin asks for a pick; stop ends the run', () => {
    expect(plan('round_robin', { users: [1, 2], key: 'k' })).toEqual({ kind: 'pick', key: 'k', users: [1, 2] });
    expect(() => plan('round_robin', { users: [] })).toThrow(/non-empty/);
    expect(plan('stop', {})).toEqual({ kind: 'stop', reason: 'stop action' });
  });

  it('an unknown kind is a rule problem', () => {
    expect(() => actionKind('teleport')).toThrow(/unknown action kind/);
  });
});
