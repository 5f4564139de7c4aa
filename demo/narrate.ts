/**
 * Turns what the engine did into one readable line per rule run for the demo:
 * the effect ledger rows of a run (the calls it made) described in words
 * ("lead #41 assigned to Chloe Nguyen", "task 'Prepare the proposal' for Ben").
 */
import type { EffectRecord } from '../engine/store/index.js';

export type UserNames = Map<string, string>;

function str(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function short(text: unknown, max = 70): string {
  const s = str(text).replace(/\[\/?URL[^\]]*\]/g, '').replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function user(names: UserNames, id: unknown): string {
  return names.get(str(id)) ?? `user ${str(id)}`;
}

const ENTITY_OF_TYPE: Record<string, string> = { '1': 'lead', '2': 'deal', '3': 'contact', '4': 'company' };

function fieldText(field: string, value: unknown, names: UserNames): string {
  if (field === 'ASSIGNED_BY_ID') return `assigned to ${user(names, value)}`;
  if (Array.isArray(value)) return `${field} = ${value.map((v) => str((v as { VALUE?: unknown }).VALUE ?? v)).join(', ')}`;
  return `${field} = ${short(value, 40)}`;
}

/** One effect in words. */
export function describeEffect(e: EffectRecord, names: UserNames): string {
  const p = e.params as Record<string, unknown>;
  const fields = (p.fields ?? p.FIELDS ?? {}) as Record<string, unknown>;
  const m = e.method.toLowerCase();
  const upd = /^crm\.(lead|deal|contact|company)\.update$/.exec(m);
  if (upd) return `${upd[1]} #${str(p.id ?? p.ID)} ${Object.entries(fields).map(([k, v]) => fieldText(k, v, names)).join(', ')}`;
  const add = /^crm\.(lead|deal|contact|company)\.add$/.exec(m);
  if (add) return `new ${add[1]} "${short(fields.TITLE ?? [fields.NAME, fields.LAST_NAME].filter(Boolean).join(' '), 50)}"`;
  switch (m) {
    case 'tasks.task.add':
      return `task "${short(fields.TITLE, 60)}" for ${user(names, fields.RESPONSIBLE_ID)}`;
    case 'tasks.task.update':
      return `task #${str(p.taskId ?? p.id)} updated`;
    case 'crm.timeline.comment.add': {
      const f = fields as { ENTITY_TYPE?: unknown; ENTITY_ID?: unknown; COMMENT?: unknown };
      return `comment on ${str(f.ENTITY_TYPE).toLowerCase() || 'record'} #${str(f.ENTITY_ID)}: "${short(f.COMMENT, 60)}"`;
    }
    case 'crm.activity.todo.add':
      return `to-do "${short(p.title ?? p.TITLE, 50)}" for ${user(names, p.responsibleId ?? p.RESPONSIBLE_ID)}`;
    case 'im.notify.system.add':
    case 'im.notify':
      return `notified ${user(names, p.USER_ID ?? p.to)}: "${short(p.MESSAGE ?? p.message, 60)}"`;
    case 'bizproc.workflow.start':
      return `workflow ${str(p.TEMPLATE_ID)} started`;
    case 'crm.item.update':
      return `${ENTITY_OF_TYPE[str(p.entityTypeId)] ?? 'item'} #${str(p.id)} ${Object.entries(fields).map(([k, v]) => fieldText(k, v, names)).join(', ')}`;
    case 'http': {
      const url = str(p.url);
      const service = /\/enrich/.test(url) ? 'enrichment service' : /\/ai\//.test(url) ? 'AI summary service' : /\/tasks-sync\//.test(url) ? 'task tracker (sync)' : /\/sync\//.test(url) ? 'external system (sync)' : /\/erp\//.test(url) ? 'ERP (invoice)' : url;
      return `called the ${service} (${str(p.method ?? 'GET')})`;
    }
    default:
      return `${e.method}`;
  }
}

/** A run's calls in words (those it made, or with `shadow` those it journaled), or null when there are none. */
export function describeRun(effects: EffectRecord[], names: UserNames, state: 'done' | 'shadow' = 'done'): string | null {
  const done = effects.filter((e) => e.state === state);
  if (done.length === 0) return null;
  return done.map((e) => describeEffect(e, names)).join('; ');
}
